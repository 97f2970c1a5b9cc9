/**
 * Every ```ts block of docs/combinators.md is a complete module: this test extracts each one,
 * type-checks it against the sources, and runs it (its `node:assert` checks must pass).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, test } from "vitest";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const DOC = path.join(REPO, "docs/combinators.md");

interface Example {
  readonly heading: string;
  readonly code: string;
  readonly file: string;
}

function extract(md: string): { heading: string; code: string }[] {
  const out: { heading: string; code: string }[] = [];
  let heading = "(top)";
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("## ")) heading = line.slice(3).trim();
    if (line.trim() === "```ts") {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++) body.push(lines[i]!);
      out.push({ heading, code: `${body.join("\n")}\n` });
    }
  }
  return out;
}

const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-docs-"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
const examples: Example[] = extract(readFileSync(DOC, "utf8")).map((e, i) => {
  const file = path.join(dir, `example${String(i).padStart(2, "0")}.ts`);
  writeFileSync(file, e.code);
  return { ...e, file };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("docs/combinators.md examples", () => {
  test("there is one example per combinator and primitive", () => {
    const headings = examples.map((e) => e.heading);
    for (const h of [
      "parallel",
      "race",
      "first",
      "sleep and delay",
      "timeout",
      "debounce",
      "throttle",
      "sample",
      "never",
      "attempt",
      "absolve",
      "deferred",
      "mailbox",
      "semaphore and holding",
      "supervisor",
      "next: async iterables inside a spin",
      "toAsyncIterable",
      "Time and virtual time",
      "Forks",
    ])
      expect(headings).toContain(h);
  });

  test("every example type-checks", () => {
    const program = ts.createProgram(
      examples.map((e) => e.file),
      {
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
        allowImportingTsExtensions: false,
      },
    );
    const ours = new Set(examples.map((e) => path.resolve(e.file)));
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && ours.has(path.resolve(d.file.fileName)))
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        const ex = examples.find((e) => path.resolve(e.file) === path.resolve(d.file!.fileName))!;
        return `${ex.heading}:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
      });
    expect(problems).toEqual([]);
  });

  for (const [i, e] of extract(readFileSync(DOC, "utf8")).entries()) {
    test(`runs: ${e.heading} (#${i})`, async () => {
      const file = examples[i]!.file;
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    });
  }
});
