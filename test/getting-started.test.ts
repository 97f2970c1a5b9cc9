/**
 * docs/getting-started.md tells one story: its ```ts blocks, in order, are one module. This test
 * joins them, type-checks the module against the sources and runs it (its asserts must hold).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, expect, test } from "vitest";
import { typeProblems } from "./typecheck.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const doc = readFileSync(path.join(REPO, "docs/getting-started.md"), "utf8");
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-getting-started-"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
const file = path.join(dir, "getting-started.ts");
writeFileSync(file, blocks.join("\n"));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("the page has its examples", () => {
  expect(blocks.length).toBeGreaterThanOrEqual(3);
});

test("the examples type-check as one module", () => {
  expect(typeProblems([file]).map((p) => `${p.line}: ${p.message}`)).toEqual([]);
}, 180_000); // a whole program over the sources: slow on a loaded machine

test("the examples run and their assertions hold", async () => {
  await import(/* @vite-ignore */ pathToFileURL(file).href);
});
