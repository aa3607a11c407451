// Room names are user-chosen strings used as map keys and bus topics; both endpoints (native
// joins and `/yjs/<room>`) check them with the same rule.
import { limits } from './defaults'

/** Why `room` is not an acceptable room name, or `undefined` when it is. */
export function roomNameProblem(room: string): string | undefined {
  if (room === '') return 'room name must not be empty'
  if (room.length > limits.maxRoomNameLength) {
    return `room name must be at most ${limits.maxRoomNameLength} characters`
  }
  return undefined
}
