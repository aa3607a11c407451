// The demo in real Chromium: two tabs load the <script>-tag bundle, connect, and see each
// other's room broadcasts — the whole stack a newcomer runs with `pnpm start`.
import { chromiumArgs, chromiumPath, hasChromium, serviceAvailable } from '@syncline/test-utils'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo } from '../demo.mjs'

const run = serviceAvailable(
  'Chromium',
  hasChromium(),
  `apt-get install -y chromium → ${chromiumPath}`,
)

describe.runIf(run)('demo page in Chromium', () => {
  let browser: Browser
  let demo: { webUrl: string; close(): Promise<void> }

  beforeAll(async () => {
    demo = await startDemo({ webPort: 0, syncPort: 0 })
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  it('connects two tabs from a plain <script> tag and relays a broadcast between them', async () => {
    const context = await browser.newContext()
    const [a, b] = [await context.newPage(), await context.newPage()]
    const errors: string[] = []
    for (const page of [a, b]) {
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(demo.webUrl)
      await page.locator('#status[data-status="connected"]').waitFor()
      await page.locator('#room-status', { hasText: 'synced' }).waitFor()
    }
    await a.fill('#text', 'hello from tab A')
    await a.click('button[type=submit]')
    await b.locator('#messages li', { hasText: 'hello from tab A' }).waitFor()
    expect(await a.locator('#messages li.mine').count()).toBe(1)
    expect(errors).toEqual([])
    await context.close()
  })
})
