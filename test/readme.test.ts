/** The README's example is a complete module: extract it and run it (its asserts must pass). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { expect, test } from "vitest";

test("the README example runs and its assertions hold", async () => {
  const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  expect(match).not.toBeNull();
  const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-readme-"));
  try {
    const file = path.join(dir, "readme-example.ts");
    writeFileSync(file, match![1]!);
    await import(/* @vite-ignore */ pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
