import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { spindelPlugin } from "./src/transform/vite.js";

const src = (p: string) => fileURLToPath(new URL(`./src/${p}`, import.meta.url));

export default defineConfig({
  // the spinRemote compiler (issue 4): every test file runs through it, as users' code would
  plugins: [spindelPlugin()],
  resolve: {
    alias: [
      { find: /^spindel$/, replacement: src("index.ts") },
      { find: /^spindel\/distributed$/, replacement: src("distributed/index.ts") },
      { find: /^spindel\/distributed\/testing$/, replacement: src("distributed/testing/index.ts") },
      { find: /^spindel\/transform$/, replacement: src("transform/index.ts") },
      { find: /^spindel\/vite$/, replacement: src("transform/vite.ts") },
      { find: /^spindel\/crdt$/, replacement: src("distributed/crdt/index.ts") },
      { find: /^spindel\/hub$/, replacement: src("distributed/hub/index.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    execArgv: ["--expose-gc"],
    // FC_SIZE: fast-check's base size for the properties (test/fc-size.ts)
    setupFiles: ["test/fc-size.ts"],
  },
});
