// The demo in real Chromium: two tabs load the <script>-tag bundle, connect, and see each
// other's room broadcasts — the whole stack a newcomer runs with `pnpm start`.
import { chromiumArgs, chromiumPath, hasChromium, serviceAvailable } from '@syncline/test-utils'
import { type Browser, type BrowserContext, chromium } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startDemo } from '../demo.mjs'

const run = serviceAvailable(
  'Chromium',
  hasChromium(),
  `apt-get install -y chromium → ${chromiumPath}`,
)

describe.runIf(run)('demo page in Chromium', { timeout: 60_000 }, () => {
  let browser: Browser
  let demo: { webUrl: string; close(): Promise<void> }
  // One context per test, closed even when the test fails, so no tab outlives its test.
  let context: BrowserContext | undefined

  beforeAll(async () => {
    demo = await startDemo({ webPort: 0, syncPort: 0, dataDir: ':memory:' })
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs })
  }, 60_000)
  afterEach(async () => {
    await context?.close()
    context = undefined
  })
  afterAll(async () => {
    await browser?.close()
    await demo?.close()
  })

  it('connects two tabs from a plain <script> tag and relays a broadcast between them', async () => {
    context = await browser.newContext()
    const [a, b] = [await context.newPage(), await context.newPage()]
    const errors: string[] = []
    for (const page of [a, b]) {
      page.on('pageerror', (error) => errors.push(error.message))
      await page.goto(demo.webUrl)
      await page.locator('#status[data-status="connected"]').waitFor()
      await page.locator('#room-status', { hasText: 'synced' }).waitFor()
    }
    await a.bringToFront()
    await a.fill('#text', 'hello from tab A')
    await a.click('#send button')
    await b.locator('#messages li', { hasText: 'hello from tab A' }).waitFor()
    expect(await a.locator('#messages li.mine').count()).toBe(1)
    expect(errors).toEqual([])
  })

  it("shows who is here and moves the other tab's cursor", async () => {
    context = await browser.newContext({ viewport: { width: 900, height: 800 } })
    const [a, b] = [await context.newPage(), await context.newPage()]
    for (const page of [a, b]) await page.goto(demo.webUrl)
    for (const page of [a, b]) {
      await page.bringToFront()
      await page.locator('#count', { hasText: '2 people here' }).waitFor()
    }
    expect(await a.locator('#avatars .avatar').count()).toBe(2)

    await a.bringToFront() // input events wait for a frame, and background tabs get none
    const box = await a.locator('#board').boundingBox()
    if (!box) throw new Error('board not visible')
    await a.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.5)
    await a.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.5, { steps: 10 })
    const cursor = b.locator('#board .cursor')
    await cursor.waitFor({ state: 'attached' })
    // The interpolated cursor settles where A's pointer stopped (relative coordinates).
    await b.waitForFunction(
      () => {
        const el = document.querySelector<HTMLElement>('#board .cursor')
        const board = document.querySelector<HTMLElement>('#board')
        if (!el || !board) return false
        const match = /translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec(el.style.transform)
        if (!match) return false
        const x = Number(match[1]) / board.clientWidth
        return Math.abs(x - 0.75) < 0.02
      },
      undefined,
      { polling: 50 },
    )
    await b.screenshot({ path: `${process.env.DEMO_SCREENSHOT_DIR ?? '/tmp'}/syncline-demo.png` })

    // A leaves: B sees one person again and the cursor is gone.
    await a.close()
    await b.locator('#count', { hasText: '1 person here' }).waitFor()
    expect(await b.locator('#board .cursor').count()).toBe(0)
  })

  it('shares the todo list and the notes between tabs, and keeps them across a reload', async () => {
    context = await browser.newContext()
    const [a, b] = [await context.newPage(), await context.newPage()]
    for (const page of [a, b]) {
      await page.goto(demo.webUrl)
      await page.locator('#doc-state', { hasText: 'saved' }).waitFor()
    }
    await a.bringToFront()
    await a.fill('#todo-text', 'write the docs')
    await a.click('#todo-form button')
    await b.locator('#todos li', { hasText: 'write the docs' }).waitFor()
    await b.bringToFront()
    await b.locator('#todos li input[type=checkbox]').check()
    await a.locator('#todos li.done', { hasText: 'write the docs' }).waitFor()

    await a.bringToFront()
    await a.locator('#notes').pressSequentially('Hello World')
    await b.waitForFunction(
      () => document.querySelector<HTMLTextAreaElement>('#notes')?.value === 'Hello World',
      undefined,
      { polling: 50 },
    )
    await a.locator('#doc-state', { hasText: 'saved' }).waitFor()

    await b.reload()
    await b.locator('#doc-state', { hasText: 'saved' }).waitFor()
    expect(await b.locator('#notes').inputValue()).toBe('Hello World')
    expect(await b.locator('#todos li.done').count()).toBe(1)
  })
})
