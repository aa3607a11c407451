// Finds out, without starting it, whether the built @syncline/server is usable for the bench
// and which presence tick it uses (the tick is also the "superseded" tolerance for all targets).
const FALLBACK_TICK_MS = 50

export async function syncline() {
  let mod
  try {
    mod = await import('@syncline/server')
  } catch (err) {
    return {
      available: false,
      reason: `@syncline/server is not built or not importable (${err.code ?? err.message}); run npx turbo run build --filter=@syncline/server...`,
      tickMs: FALLBACK_TICK_MS,
      tickSource: 'fallback',
    }
  }
  if (typeof mod.createServer !== 'function') {
    return {
      available: false,
      reason: '@syncline/server has no createServer export',
      tickMs: FALLBACK_TICK_MS,
      tickSource: 'fallback',
    }
  }
  // Look for the default tick among the exports (e.g. a defaults object), else the fallback.
  for (const value of Object.values(mod)) {
    if (value && typeof value === 'object' && typeof value.presenceTickMs === 'number') {
      return { available: true, tickMs: value.presenceTickMs, tickSource: 'server defaults' }
    }
  }
  return { available: true, tickMs: FALLBACK_TICK_MS, tickSource: 'assumed default' }
}
