/**
 * The CLI in process (`main(argv, io)`): arguments, exit status, project mode, parse errors.
 * (fixtures.test.ts runs it as a child process through bin/spindel.mjs.)
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CliUsageError, main } from "../../src/transform/cli.js";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
let dir: string;
const run = (argv: string[], cwd = dir) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), cwd });
  return { code, out: out.join("\n"), err: err.join("\n") };
};

const BAD = `import { remoteFn, spinRemote } from "spindel/distributed";
export const f = remoteFn(function f(s, a) {
  return spinRemote(s, [], () => a);
});
`;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "spindel-cli-"));
  writeFileSync(path.join(dir, "package.json"), "{}");
  mkdirSync(path.join(dir, "src"));
  mkdirSync(path.join(dir, "src/node_modules"));
  mkdirSync(path.join(dir, "src/.hidden"));
  writeFileSync(path.join(dir, "src/bad.mjs"), BAD);
  writeFileSync(path.join(dir, "src/bad.ts"), BAD);
  writeFileSync(path.join(dir, "src/types.d.ts"), BAD);
  writeFileSync(path.join(dir, "src/node_modules/skipped.js"), BAD);
  writeFileSync(path.join(dir, "src/.hidden/skipped.js"), BAD);
  writeFileSync(path.join(dir, "src/unrelated.js"), "export const x = (;");
  writeFileSync(
    path.join(dir, "src/broken.mjs"),
    `import { spinRemote } from "spindel/distributed";\nconst x = (;\n`,
  );
  writeFileSync(
    path.join(dir, "src/other-source.js"),
    BAD.replace('"spindel/distributed"', '"./runtime.js"'),
  );
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { allowJs: true, noEmit: true }, include: ["src/bad.ts"] }),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("spindel check", () => {
  test("directories: searches script files, skipping node_modules, dot-directories and .d.ts", () => {
    const r = run(["check", "src"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("src/bad.mjs:3:34 - error SPINDEL001: spinRemote body uses 'a'");
    expect(r.out).toContain("src/bad.ts:3:34 - error SPINDEL001: spinRemote body uses 'a'");
    expect(r.out).not.toContain("skipped");
    expect(r.out).not.toContain("types.d.ts");
    // a file that imports nothing from spindel is not parsed (its syntax error is not ours to report)
    expect(r.out).not.toContain("unrelated.js");
  });

  test("a JavaScript file acorn cannot parse is a SPINDEL000 error at the error's position", () => {
    const r = run(["check", "src/broken.mjs"]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /^src\/broken\.mjs:2:12 - error SPINDEL000: cannot parse the file: Unexpected token/m,
    );
  });

  test("--project reads the files of a tsconfig; without paths ./tsconfig.json is used", () => {
    const p = run(["check", "-p", "tsconfig.json"]);
    expect(p.code).toBe(1);
    expect(p.out).toContain("src/bad.ts:3:34");
    expect(p.out).not.toContain("bad.mjs");
    expect(run(["check"]).out).toBe(p.out);
  });

  test("--import-source, --root, --parser, --json", () => {
    expect(run(["check", "src/other-source.js"]).code).toBe(0);
    const custom = run(["check", "--import-source", "./runtime.js", "src/other-source.js"]);
    expect(custom.code).toBe(1);
    const json = JSON.parse(run(["check", "--json", "--root", "src", "src/bad.ts"]).out);
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({
      code: "SPINDEL001",
      file: "src/bad.ts",
      line: 3,
      column: 34,
      names: ["a"],
    });
    const viaTs = run(["check", "--json", "--parser", "typescript", "src/bad.mjs"]).out;
    const viaAcorn = run(["check", "--json", "--parser", "acorn", "src/bad.mjs"]).out;
    expect(viaTs).toBe(viaAcorn);
  });

  test("usage errors exit 2 with the usage text", () => {
    for (const argv of [[], ["nope"], ["check", "--bogus"], ["check", "--parser", "x"], ["check", "-p"]]) {
      const r = run(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.out + r.err).toContain("Usage: spindel check");
    }
    const empty = mkdtempSync(path.join(os.tmpdir(), "spindel-cli-empty-"));
    expect(run(["check"], empty).err).toContain("no paths given and tsconfig.json not found");
    rmSync(empty, { recursive: true });
    expect(run(["--help"]).code).toBe(0);
    expect(run(["check", "--help"]).code).toBe(0);
    expect(new CliUsageError("x").code).toBe("ERR_SPINDEL_CLI_USAGE");
  });

  test("a missing file is one line, exit 2", () => {
    for (const argv of [
      ["check", "missing.ts"],
      ["check", "-p", "missing.json"],
    ]) {
      const r = run(argv);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err.split("\n")).toHaveLength(1);
      expect(r.err).toMatch(
        /^spindel: no such file( or directory)?: missing\.(ts|json) \(spindel --help for usage\)$/,
      );
    }
  });

  test("--version prints the package version", () => {
    const version = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }
    ).version;
    for (const flag of ["--version", "-v", "version"])
      expect(run([flag])).toEqual({ code: 0, out: version, err: "" });
  });
});
