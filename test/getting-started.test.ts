/**
 * docs/getting-started.md tells one story: its ```ts blocks, in order, are one module. This test
 * joins them, type-checks the module against the sources and runs it (its asserts must hold).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, expect, test } from "vitest";

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
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ["node"],
    typeRoots: [path.join(REPO, "node_modules/@types")],
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    paths: { spindel: [path.join(REPO, "src/index.ts")] },
  });
  const problems = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && path.resolve(d.file.fileName) === path.resolve(file))
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
  expect(problems).toEqual([]);
});

test("the examples run and their assertions hold", async () => {
  await import(/* @vite-ignore */ pathToFileURL(file).href);
});
