/**
 * The bench page's build: the app's settings with this folder as the root, so the app's own build never holds
 * the bench. `npm run bench` builds it into a temporary folder; `vite --config bench/vite.config.ts` serves it
 * for a look by hand.
 */
import { mergeConfig } from "vite";
import app from "../vite.config.ts";

export default mergeConfig(app, {
  root: import.meta.dirname,
  publicDir: false,
  build: { outDir: "dist" },
});
