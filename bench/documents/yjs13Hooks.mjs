// Module resolve hook for the y-websocket server process: @y/websocket-server 0.1.5 as installed
// resolves yjs@14.0.0-16 for its docs but @y/protocols → @y/y@14.0.0-rc.7 for sync, two
// incompatible prereleases (every document update throws "store.getClock is not a function").
// This runs its unchanged utils.js on yjs 13.6 + y-protocols 1.0.7, the Yjs every other target
// and client in the benchmark uses (the same server code as y-websocket 1.x's bin/utils).
const bench = new URL('./', import.meta.url).href

const fromWebsocketServer = (parent) =>
  parent !== undefined && /\/@y\+(websocket-server|protocols)@/.test(parent)

export async function resolve(specifier, context, next) {
  if (fromWebsocketServer(context.parentURL)) {
    if (specifier === 'yjs' || specifier === '@y/y') {
      return next('yjs', { ...context, parentURL: bench })
    }
    if (specifier.startsWith('@y/protocols/')) {
      const sub = specifier.slice('@y/protocols/'.length)
      return next(`y-protocols/${sub}`, { ...context, parentURL: bench })
    }
  }
  return next(specifier, context)
}
