/**
 * Every ```ts block of docs/testing.md is a complete module: this test extracts each one,
 * type-checks it against the sources, and runs it (its `node:assert` checks must pass).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { typeProblems } from "../typecheck.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DOC = path.join(REPO, "docs/testing.md");

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

const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-docs-testing-"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
const examples = extract(readFileSync(DOC, "utf8")).map((e, i) => {
  const file = path.join(dir, `example${i}.ts`);
  writeFileSync(file, e.code);
  return { ...e, file };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("docs/testing.md examples", () => {
  test("every example type-checks", () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const problems = typeProblems(examples.map((e) => e.file)).map((p) => {
      const ex = examples.find((e) => path.resolve(e.file) === p.file)!;
      return `${ex.heading}:${p.line}: ${p.message}`;
    });
    expect(problems).toEqual([]);
  }, 120_000); // a whole-program type check: slow on a loaded machine

  for (const [i, e] of examples.entries()) {
    test(`runs: ${e.heading} (#${i})`, async () => {
      await import(/* @vite-ignore */ pathToFileURL(e.file).href);
    });
  }
});
