// Helpers shared by Syncline's tests.
export {}
