/** Every ```ts block of the README is a complete module: extract each and run it (its asserts must pass). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, expect, test } from "vitest";

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-readme-"));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("the README has its examples", () => {
  expect(blocks.length).toBeGreaterThanOrEqual(2);
});

for (const [i, code] of blocks.entries()) {
  test(`README example ${i + 1} runs and its assertions hold`, async () => {
    const file = path.join(dir, `readme-example-${i + 1}.ts`);
    writeFileSync(file, code);
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  });
}
