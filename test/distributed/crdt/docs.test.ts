/**
 * Every ```ts block of docs/crdt.md is a complete module: this test extracts each one,
 * type-checks it against the sources, and runs it (its `node:assert` checks must pass).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { typeProblems } from "../../typecheck.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const DOC = path.join(REPO, "docs/crdt.md");

function extract(md: string): { heading: string; code: string }[] {
  const out: { heading: string; code: string }[] = [];
  let heading = "(top)";
  const lines = md.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith("## ")) heading = line.slice(3).trim();
    if (line.trim() === "```ts") {
      const body: string[] = [];
      for (i++; i < lines.length && (lines[i] as string).trim() !== "```"; i++) body.push(lines[i] as string);
      out.push({ heading, code: `${body.join("\n")}\n` });
    }
  }
  return out;
}

const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-crdt-docs-"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
const examples = extract(readFileSync(DOC, "utf8")).map((e, i) => {
  const file = path.join(dir, `example${String(i).padStart(2, "0")}.ts`);
  writeFileSync(file, e.code);
  return { ...e, file };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("docs/crdt.md examples", () => {
  test("each datatype and the no-op law have an example", () => {
    const headings = examples.map((e) => e.heading);
    for (const h of [
      "The no-op law",
      "GSet",
      "ORSet",
      "ORMap",
      "LWWRegister",
      "PNCounter",
      "CDVCS",
      "VersionedMap",
      "converge's ref",
      "Codecs",
    ])
      expect(headings).toContain(h);
  });

  test("every example type-checks", () => {
    const problems = typeProblems(examples.map((e) => e.file)).map((p) => {
      const ex = examples.find((e) => path.resolve(e.file) === p.file);
      return `${ex?.heading}:${p.line}: ${p.message}`;
    });
    expect(problems).toEqual([]);
  }, 120_000); // a full TypeScript program: slow on a loaded machine

  for (const [i, e] of examples.entries()) {
    test(`runs: ${e.heading} (#${i})`, async () => {
      await import(/* @vite-ignore */ pathToFileURL(e.file).href);
    });
  }
});
