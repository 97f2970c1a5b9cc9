/**
 * The fixture corpus (test/transform/fixtures/{good,bad}) through every entry point: the analysis,
 * the ts-patch program transformer, the Vite plugin and the CLI. Each must report exactly the
 * codes and positions written in the fixtures, and all three must report identical diagnostics.
 */
import path from "node:path";
import { analyzeSource } from "spindel/transform";
import { describe, expect, test } from "vitest";
import {
  FIXTURES,
  fixtureFiles,
  fromCliJson,
  fromDiagnostics,
  parseExpectations,
  REPO,
  type Reported,
  readFixture,
  runCli,
  runTsPatch,
  runVite,
  sortReported,
} from "./helpers.js";

const files = fixtureFiles();
const name = (f: string) => path.relative(FIXTURES, f);

describe("fixture corpus: the analysis reports exactly the expected codes and positions", () => {
  test("the corpus covers every diagnostic code and both parsers", () => {
    const codes = new Set(files.flatMap((f) => parseExpectations(readFixture(f)).map((e) => e.code)));
    for (const code of [
      "SPINDEL001",
      "SPINDEL002",
      "SPINDEL003",
      "SPINDEL004",
      "SPINDEL005",
      "SPINDEL010",
      "SPINDEL011",
      "SPINDEL012",
      "SPINDEL013",
      "SPINDEL014",
    ]) {
      expect(codes).toContain(code);
    }
    expect(files.some((f) => /\.m?js$/.test(f))).toBe(true);
    expect(files.some((f) => f.endsWith(".tsx"))).toBe(true);
  });

  test.each(files.map((f) => [name(f), f]))("%s", (_n, file) => {
    const text = readFixture(file);
    const expected = parseExpectations(text);
    const actual = analyzeSource(file, text).diagnostics;
    expect(
      actual.map((d) => ({ line: d.line, column: d.column, code: d.code, severity: d.severity })),
    ).toEqual(expected.map((e) => ({ line: e.line, column: e.column, code: e.code, severity: e.severity })));
    // the named name is the diagnostic's subject (the first of its names)
    actual.forEach((d, i) => {
      const want = expected[i]!.name;
      if (want !== undefined) expect(d.names[0]).toBe(want);
    });
    if (file.includes(`${path.sep}good${path.sep}`))
      expect(actual.filter((d) => d.severity === "error")).toEqual([]);
    else expect(actual.some((d) => d.severity === "error")).toBe(true);
  });

  test("every diagnostic names the declared list and carries a fix", () => {
    for (const file of files) {
      for (const d of analyzeSource(file, readFixture(file)).diagnostics) {
        expect(d.fix.length).toBeGreaterThan(10);
        expect(d.message.endsWith(`Fix: ${d.fix}`)).toBe(true);
        if (d.code === "SPINDEL001") {
          // the message lists every missing name of the call (this one among them) and the declared list
          const missing = /Missing: \[([^\]]*)\]/.exec(d.message)![1]!.split(", ");
          expect([...missing].sort()).toEqual([...d.names].sort());
          expect(missing).toContain(d.names[0]);
          expect(d.message).toContain(`Declared: [${d.declared.join(", ")}]`);
          expect(d.fix).toContain(`[${[...d.declared, ...missing].join(", ")}]`);
        }
      }
    }
  });
});

describe("plain JavaScript: acorn and TypeScript's parser agree exactly", () => {
  const jsFiles = files.filter((f) => /\.[cm]?js$/.test(f));
  test.each(jsFiles.map((f) => [name(f), f]))("%s", (_n, file) => {
    const text = readFixture(file);
    const viaAcorn = analyzeSource(file, text, { parser: "acorn" });
    const viaTs = analyzeSource(file, text, { parser: "typescript" });
    expect(viaAcorn.model.parser).toBe("acorn");
    expect(viaTs.model.parser).toBe("typescript");
    expect(viaAcorn.diagnostics).toEqual(viaTs.diagnostics);
    expect(viaAcorn.remotes).toEqual(viaTs.remotes);
    expect(viaAcorn.spins).toEqual(viaTs.spins);
  });
});

describe("the three entry points give identical diagnostics on the same input", () => {
  const analysis = sortReported(
    files.flatMap((f) => fromDiagnostics(analyzeSource(f, readFixture(f)).diagnostics)),
  );

  test("the ts-patch program transformer (program.emit with the plugin in `before`)", () => {
    const { reported } = runTsPatch(files);
    expect(sortReported(reported)).toEqual(analysis);
  });

  test("the Vite plugin (transform hook; warnings via this.warn, errors via this.error)", () => {
    const reported: Reported[] = [];
    for (const f of files) {
      const run = runVite(f, readFixture(f));
      reported.push(...run.reported);
      const errors = analysis.filter((d) => d.file.endsWith(name(f)) && d.severity === "error");
      if (errors.length > 0) {
        expect(run.error).toBeDefined();
        expect(run.error!.id).toBe(f);
        expect(run.error!.loc).toEqual({ file: f, line: errors[0]!.line, column: errors[0]!.column - 1 });
        expect(run.error!.pluginCode).toBe(errors[0]!.code);
      } else {
        expect(run.error).toBeUndefined();
      }
      for (const w of run.warnings) expect(w.loc?.file).toBe(f);
    }
    expect(sortReported(reported)).toEqual(analysis);
  });

  test("the CLI (`spindel check --json`, acorn for .js/.mjs)", async () => {
    const run = await runCli(["check", "--json", "test/transform/fixtures"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    expect(sortReported(fromCliJson(run.stdout))).toEqual(analysis);
  });

  test("the CLI's text output has the same lines the Vite plugin raises", async () => {
    const run = await runCli(["check", "test/transform/fixtures/bad/forbidden.ts"]);
    expect(run.code).toBe(1);
    const file = path.join(FIXTURES, "bad/forbidden.ts");
    const vite = runVite(file, readFixture(file));
    const cliLines = run.stdout.trim().split("\n").slice(0, -1);
    // the same lines; the CLI shows paths relative to its working directory
    expect(cliLines.join("\n")).toBe(vite.error!.message.replaceAll(`${REPO}`, ""));
    expect(run.stdout).toMatch(/spindel check: 8 errors, 0 warnings in 1 file\n$/);
  });

  // three CLI processes: on a loaded machine each can take several seconds to start
  test("good files: the CLI exits 0 (warnings only), --warnings-as-errors exits 1", {
    timeout: 90_000,
  }, async () => {
    const ok = await runCli(["check", "test/transform/fixtures/good"]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("warning SPINDEL010");
    const strict = await runCli(["check", "--warnings-as-errors", "test/transform/fixtures/good"]);
    expect(strict.code).toBe(1);
    const quiet = await runCli(["check", "-q", "test/transform/fixtures/good"]);
    expect(quiet.stdout.trim().split("\n")).toHaveLength(1);
  });
});
