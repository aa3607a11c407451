// One vitest config for the whole workspace: each package is a project, and
// `@syncline/*` imports resolve to sources so tests never run against a stale build.
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))
const packages = readdirSync(`${root}packages`).filter((name) =>
  existsSync(`${root}packages/${name}/src/index.ts`),
)

const alias = Object.fromEntries(
  packages.map((name) => [`@syncline/${name}`, `${root}packages/${name}/src/index.ts`]),
)

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      ...packages.map((name) => ({
        extends: true,
        test: {
          name,
          root: `${root}packages/${name}`,
          include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
        },
      })),
      {
        extends: true,
        test: { name: 'demo', root: `${root}examples/demo`, include: ['test/**/*.test.ts'] },
      },
    ],
  },
})
