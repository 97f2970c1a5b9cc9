/**
 * The Vite plugin inside a real Vite build (rolldown): a good module is compiled, a bad one fails
 * the build with the diagnostics. (Under Vitest the same plugin runs on every test file of this
 * repository: see vitest.config.ts and e2e.test.ts.)
 */
import path from "node:path";
import { spindelPlugin } from "spindel/vite";
import { build } from "vite";
import { describe, expect, test } from "vitest";
import { REPO } from "./helpers.js";

async function buildSsr(entry: string): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: "silent",
    root: REPO,
    plugins: [spindelPlugin()],
    build: { ssr: entry, write: false, rollupOptions: { external: [/^spindel/, /^node:/] } },
  });
  const result = Array.isArray(out) ? out[0]! : out;
  if (!("output" in result)) throw new Error("unexpected watcher");
  return result.output[0].code;
}

describe("in a Vite build", () => {
  test("a good module is compiled: bodies registered, calls invoked by id", async () => {
    const code = await buildSsr(path.join(REPO, "test/transform/fixtures/good/nested-remote.ts"));
    expect(code).toContain(
      'registerRemote("test/transform/fixtures/good/nested-remote:relay:1", ["doubled"]',
    );
    expect(code).toContain(
      'registerRemote("test/transform/fixtures/good/nested-remote:relay:0", ["next", "v"]',
    );
    expect(code).not.toMatch(/\bspinRemote\(/);
  }, 60_000);

  test("a bad module fails the build with every diagnostic at file:line:col", async () => {
    const file = path.join(REPO, "test/transform/fixtures/bad/nested-remote.ts");
    const err = (await buildSsr(file).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`${file}:7:23 - error SPINDEL001: spinRemote body uses 'next'`);
    expect(err.message).toContain(`${file}:7:58 - error SPINDEL001: spinRemote body uses 'v'`);
    expect(err.message).toContain("[plugin spindel]");
  }, 60_000);
});
