import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// One static build that works from any path: relative asset, worker and WASM URLs (base "./"), hash-based routing
// in the app, and run-time configuration read from `config.json` beside index.html.
export default defineConfig({
  root: "web",
  base: "./",
  publicDir: "../public",
  plugins: [svelte({ configFile: `${import.meta.dirname}/svelte.config.js` })],
  build: {
    outDir: "../dist",
    emptyOutDir: true,
    target: "es2023",
    // No source maps: the bundler numbers asset references in a varying order inside them, which would make the
    // site's CID differ between builds of the same sources.
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
  },
  worker: { format: "es" },
  server: { host: "127.0.0.1", strictPort: true },
  preview: { host: "127.0.0.1", strictPort: true },
  test: {
    root: ".",
    include: ["web/**/*.test.ts", "scripts/**/*.test.ts", "sim/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
