/**
 * Builds the demo app with Vite and the spindel plugin (spinRemote compiler) into `outDir`,
 * resolving `spindel`, `spindel/distributed` (its browser entry) and `spindel/crdt` to this
 * checkout's sources.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { spindelPlugin } from "../src/transform/vite.js";

const DEMO = path.dirname(fileURLToPath(import.meta.url));
const SRC = path.join(DEMO, "..", "src");

/** Writes the built demo (index.html and its assets) into `outDir`; resolves with `outDir`. */
export async function buildDemo(outDir: string = path.join(DEMO, "dist")): Promise<string> {
  await build({
    configFile: false,
    logLevel: "warn",
    root: DEMO,
    base: "./",
    plugins: [spindelPlugin()],
    resolve: {
      alias: [
        { find: /^spindel\/distributed$/, replacement: path.join(SRC, "distributed/browser.ts") },
        { find: /^spindel\/crdt$/, replacement: path.join(SRC, "distributed/crdt/index.ts") },
        { find: /^spindel$/, replacement: path.join(SRC, "index.ts") },
      ],
    },
    build: { outDir, emptyOutDir: true, target: "es2022", minify: true, sourcemap: true },
  });
  return outDir;
}
