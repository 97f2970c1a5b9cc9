/**
 * Every ```ts block of docs/combinators.md is a complete module: this test extracts each one,
 * type-checks it against the sources, and runs it (its `node:assert` checks must pass).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { typeProblems } from "../../typecheck.js";

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
    const problems = typeProblems(examples.map((e) => e.file)).map((p) => {
      const ex = examples.find((e) => path.resolve(e.file) === p.file)!;
      return `${ex.heading}:${p.line}: ${p.message}`;
    });
    expect(problems).toEqual([]);
  }, 180_000); // a whole program over the sources: slow on a loaded machine

  for (const [i, e] of extract(readFileSync(DOC, "utf8")).entries()) {
    test(`runs: ${e.heading} (#${i})`, async () => {
      const file = examples[i]!.file;
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    });
  }
});
