/**
 * The real `tspc` (ts-patch 3.3) with the plugin entry in tsconfig.json, in a child process, on a
 * throwaway project; and the documented pitfall that `tspc --noEmit` runs no transformers.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { REPO } from "./helpers.js";

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
const TSPC = path.join(path.dirname(require.resolve("ts-patch/package.json")), "bin/tspc.js");
const TSX = pathToFileURL(require.resolve("tsx")).href;

let dir: string;

async function run(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, args, { cwd: dir });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: (err.stdout ?? "") + (err.stderr ?? "") };
  }
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "spindel-tspc-"));
  mkdirSync(path.join(dir, "src"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "tspc-probe", type: "module" }));
  // ts-patch loads the plugin with require(); the repository runs its TypeScript source through tsx
  // (an installed package points "transform" at "spindel/transform" instead, see docs/remote-functions.md)
  writeFileSync(
    path.join(dir, "plugin.cjs"),
    `module.exports = require(${JSON.stringify(path.join(REPO, "src/transform/index.ts"))});\n`,
  );
  writeFileSync(
    path.join(dir, "src/spindel.d.ts"),
    `declare module "spindel/distributed" {
  export type Scope = object;
  export function remoteFn<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  export const spinRemote: <T>(scope: Scope, declared: unknown[], body: ($: unknown) => T) => Promise<T>;
}
`,
  );
  writeFileSync(
    path.join(dir, "src/good.ts"),
    `import { remoteFn, type Scope, spinRemote } from "spindel/distributed";

export const add = remoteFn(function add(scope: Scope, x: number, y: number) {
  return spinRemote(scope, [x, y], async () => x + y);
});
`,
  );
  writeFileSync(
    path.join(dir, "src/bad.ts"),
    `import { remoteFn, type Scope, spinRemote } from "spindel/distributed";

export const f = remoteFn(function f(scope: Scope, x: number) {
  const secret = 2;
  return spinRemote(scope, [x], async () => x + secret);
});
`,
  );
  writeFileSync(
    path.join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        outDir: "dist",
        rootDir: "src",
        skipLibCheck: true,
        types: [],
        plugins: [{ transform: "./plugin.cjs" }],
      },
      include: ["src"],
    }),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("tspc with the plugin entry", () => {
  test("reports the diagnostic as TS99001 with file(line,col), exits non-zero, and compiles the good file", async () => {
    const r = await run(["--import", TSX, TSPC, "-p", "tsconfig.json"]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(
      "src/bad.ts(5,49): error TS99001: SPINDEL001: spinRemote body uses 'secret', a local of an enclosing function, without declaring it. Missing: [secret]. Declared: [x].",
    );
    const good = readFileSync(path.join(dir, "dist/good.js"), "utf8");
    expect(good).toContain('import * as __spindel_rt from "spindel/distributed";');
    expect(good).toMatch(
      /const __spindel_remote_add_0 = __spindel_rt\.registerRemote\("src\/good:add:0", \["x", "y"\], "[0-9a-f]{16}", \(x, y\) => async \(\) => x \+ y\);/,
    );
    expect(good).toContain("return __spindel_rt.invokeRemote(__spindel_remote_add_0, scope, [x, y]);");
  }, 60_000);

  test("`tspc --noEmit` runs no transformers: it misses the error (use `spindel check -p` instead)", async () => {
    const r = await run(["--import", TSX, TSPC, "-p", "tsconfig.json", "--noEmit"]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain("SPINDEL");
    const check = await run([path.join(REPO, "bin/spindel.mjs"), "check", "-p", "tsconfig.json"]);
    expect(check.code).toBe(1);
    expect(check.out).toContain("src/bad.ts:5:49 - error SPINDEL001:");
  }, 60_000);
});
