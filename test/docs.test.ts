/**
 * Every ```ts block of every page in docs/ is a complete module: this test extracts each one,
 * type-checks it against the sources (strict), and runs it under the spinRemote compiler (the Vite
 * plugin of this suite), so its `node:assert` checks must hold.
 *
 * A block can say otherwise with an HTML comment on the line before its fence:
 * - `<!-- docs-test: diagnostics SPINDEL001 -->`: the block is a module the compiler must refuse (or
 *   warn about). It is compiled, not run; the compiler's output, printed for a file named `ex.ts`,
 *   must equal the plain ``` block that follows it (or, without one, contain the named codes).
 * - `<!-- docs-test: not runnable (reason) -->`: the block is not run, and says why.
 *
 * docs/getting-started.md (one story over all its blocks) and docs/combinators.md (one example per
 * combinator) have their own tests: test/getting-started.test.ts and test/core/primitives/docs.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { formatDiagnostic, transformSource } from "../src/transform/index.js";
import { typeProblems } from "./typecheck.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const DOCS = path.join(REPO, "docs");
const OWN_TESTS = new Set(["getting-started.md", "combinators.md"]);

type Mode =
  | { readonly kind: "run" }
  | { readonly kind: "diagnostics"; readonly codes: readonly string[]; readonly expected?: readonly string[] }
  | { readonly kind: "skip"; readonly reason: string };

interface Block {
  readonly page: string;
  readonly line: number;
  readonly code: string;
  readonly mode: Mode;
}

const MARKER = /^<!--\s*docs-test:\s*(.*?)\s*-->$/;

/** The ```ts blocks of one page, with the marker (if any) on the line before each fence. */
function extractBlocks(page: string, md: string): Block[] {
  const lines = md.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== "```ts") continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== "```"; i++) body.push(lines[i]!);
    const marker = MARKER.exec(lines[start - 2]?.trim() ?? "")?.[1];
    let mode: Mode = { kind: "run" };
    if (marker?.startsWith("not runnable")) {
      mode = { kind: "skip", reason: /^not runnable\s*\((.*)\)$/.exec(marker)?.[1]?.trim() ?? "" };
    } else if (marker?.startsWith("diagnostics")) {
      const codes = marker.slice("diagnostics".length).trim().split(/\s+/).filter(Boolean);
      let expected: string[] | undefined;
      if (lines[i + 1]?.trim() === "```") {
        expected = [];
        for (let j = i + 2; j < lines.length && lines[j]!.trim() !== "```"; j++) expected.push(lines[j]!);
      }
      mode = expected ? { kind: "diagnostics", codes, expected } : { kind: "diagnostics", codes };
    } else if (marker !== undefined) {
      throw new Error(`${page}:${start - 1}: unknown docs-test marker '${marker}'`);
    }
    out.push({ page, line: start, code: `${body.join("\n")}\n`, mode });
  }
  return out;
}

const pages = readdirSync(DOCS)
  .filter((f) => f.endsWith(".md") && !OWN_TESTS.has(f))
  .sort();
// inside the repository (git-ignored), so the blocks resolve `vite` and `typescript` as a user's would
mkdirSync(path.join(REPO, ".scratch"), { recursive: true });
const dir = mkdtempSync(path.join(REPO, ".scratch", "docs-pages-"));
writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));

const blocks = pages.flatMap((page) => extractBlocks(page, readFileSync(path.join(DOCS, page), "utf8")));
const files = new Map<Block, string>();
for (const b of blocks) {
  if (b.mode.kind !== "run") continue;
  const file = path.join(dir, `${b.page.replace(/\.md$/, "")}-${b.line}.ts`);
  writeFileSync(file, b.code);
  files.set(b, file);
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("the pages have runnable examples", () => {
  expect(files.size).toBeGreaterThanOrEqual(15);
  for (const page of ["distributed.md", "forking.md", "remote-functions.md"])
    expect(blocks.some((b) => b.page === page && b.mode.kind === "run")).toBe(true);
});

test("the pages that document one API per section have a runnable block for each", () => {
  const runnable = (page: string) => blocks.filter((b) => b.page === page && b.mode.kind === "run");
  const lines = readFileSync(path.join(DOCS, "concepts.md"), "utf8").split("\n");
  for (const heading of ["## Reading now: `ctx.read(spin)`", "## Cleanups: `$.onCleanup(fn)`"]) {
    const at = lines.indexOf(heading) + 1; // 1-based line of the heading
    expect(at, heading).toBeGreaterThan(0);
    const next = lines.findIndex((l, i) => i >= at && l.startsWith("## ")) + 1 || lines.length + 1;
    expect(
      runnable("concepts.md").some((b) => b.line > at && b.line < next),
      `a runnable block under ${heading}`,
    ).toBe(true);
  }
  expect(runnable("testing.md").length).toBeGreaterThanOrEqual(5);
  expect(runnable("stage.md").length).toBeGreaterThanOrEqual(2);
});

test("every block that is not run says why", () => {
  for (const b of blocks)
    if (b.mode.kind === "skip") expect(b.mode.reason, `${b.page}:${b.line}`).not.toBe("");
});

test("the runnable blocks type-check (strict)", () => {
  const byFile = new Map([...files].map(([b, f]) => [path.resolve(f), b]));
  const problems = typeProblems([...files.values()]).map((p) => {
    const b = byFile.get(p.file)!;
    return `${b.page}:${b.line + p.line - 1}: ${p.message}`;
  });
  expect(problems).toEqual([]);
}, 180_000);

for (const page of pages.filter((p) => blocks.some((b) => b.page === p))) {
  describe(`docs/${page}`, () => {
    for (const b of blocks.filter((x) => x.page === page)) {
      const mode = b.mode;
      if (mode.kind === "run") {
        test(`the block at line ${b.line} runs and its assertions hold`, async () => {
          await import(/* @vite-ignore */ pathToFileURL(files.get(b)!).href);
        });
      } else if (mode.kind === "diagnostics") {
        test(`the block at line ${b.line} gets ${mode.codes.join(", ")} from the compiler`, () => {
          const result = transformSource(path.join(dir, "ex.ts"), b.code, { root: dir });
          const printed = result.diagnostics.map((d) => formatDiagnostic(d, "ex.ts"));
          if (mode.expected) expect(printed).toEqual(mode.expected);
          expect([...new Set(result.diagnostics.map((d) => d.code))].sort()).toEqual([...mode.codes].sort());
        });
      }
    }
  });
}
