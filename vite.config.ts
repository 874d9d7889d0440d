import { dirname, relative, resolve } from "node:path";
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
    sourcemap: true,
    chunkSizeWarningLimit: 4096,
    rolldownOptions: {
      // The app, and the bench page that `npm run bench` drives (scripts/bench.ts).
      input: {
        main: resolve(import.meta.dirname, "web/index.html"),
        bench: resolve(import.meta.dirname, "web/bench.html"),
      },
      output: {
        // Source paths relative to the project, not to the output folder, so the site's CID is the same wherever
        // it is built.
        sourcemapPathTransform: (source, mapPath) => relative(import.meta.dirname, resolve(dirname(mapPath), source)),
      },
    },
  },
  worker: { format: "es" },
  server: { host: "127.0.0.1", strictPort: true },
  preview: { host: "127.0.0.1", strictPort: true },
  test: {
    root: ".",
    include: ["web/**/*.test.ts", "scripts/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
