// `pnpm start`: runs the demo until Ctrl-C.
import { startDemo } from './demo.mjs'

const demo = await startDemo({
  host: process.env.HOST ?? '127.0.0.1',
  webPort: Number(process.env.WEB_PORT ?? 3000),
  syncPort: Number(process.env.SYNC_PORT ?? 4321),
})
console.log(`Syncline server  ${demo.syncUrl}`)
console.log(`Demo page        http://localhost:${new URL(demo.webUrl).port}  (open it in two tabs)`)

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  await demo.close()
  process.exit(0)
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
