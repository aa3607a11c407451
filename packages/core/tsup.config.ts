import { defineConfig } from 'tsup'

export default defineConfig([
  // ESM + CJS with types, for bundlers and Node.
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
  },
  // One self-contained minified file for a plain <script> tag: window.Syncline.createClient(...).
  {
    entry: { syncline: 'src/index.ts' },
    format: ['iife'],
    globalName: 'Syncline',
    platform: 'browser',
    noExternal: [/.*/],
    minify: true,
    sourcemap: true,
    dts: false,
    // The first config cleans dist/; cleaning here too would race it.
    clean: false,
    target: 'es2020',
  },
])
