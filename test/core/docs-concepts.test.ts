/**
 * The ```ts blocks of docs/concepts.md are complete modules: each is written out and run (its
 * `node:assert` checks must pass).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const DOC = fileURLToPath(new URL("../../docs/concepts.md", import.meta.url));

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

const dir = mkdtempSync(path.join(os.tmpdir(), "spindel-concepts-"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
const examples = extract(readFileSync(DOC, "utf8"));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("docs/concepts.md examples", () => {
  test("the read and cleanup sections have runnable examples", () => {
    const headings = examples.map((e) => e.heading);
    expect(headings).toContain("Reading now: `ctx.read(spin)`");
    expect(headings).toContain("Cleanups: `$.onCleanup(fn)`");
  });
  for (const [i, e] of examples.entries()) {
    test(`runs: ${e.heading} (#${i})`, async () => {
      const file = path.join(dir, `example${i}.ts`);
      writeFileSync(file, e.code);
      await import(/* @vite-ignore */ pathToFileURL(file).href);
    });
  }
});
