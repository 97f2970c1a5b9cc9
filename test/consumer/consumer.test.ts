/**
 * The package as a user gets it: `npm pack` this repository, install the tarball into a fresh project
 * (test/consumer/project, copied to a temporary directory; spindel's dependencies from the local npm
 * cache; the project's own tools — typescript, ts-patch, vite, @types/node — linked from this
 * repository's node_modules), and there
 * - import every export path as ESM (and `require` the root, Node ≥ 20.19),
 * - compile with tspc and the documented transformer config (a file with an undeclared capture fails
 *   with SPINDEL001),
 * - build a page with Vite and `spindel/vite` (the browser build of `spindel/distributed`),
 * - type-check a Node and a browser-only project, `strict`, without `skipLibCheck`,
 * - run a remote call between two processes, and the `spindel` command.
 * The independent steps run at the same time; the whole file stays well under three minutes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const PROJECT = fileURLToPath(new URL("./project/", import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
  exports: Record<string, unknown>;
};

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], cwd: string, timeout = 240_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: "" } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const BINS: Record<string, string> = {
  tsc: "typescript/bin/tsc",
  tspc: "ts-patch/bin/tspc.js",
  vite: "vite/bin/vite.js",
  spindel: "spindel/bin/spindel.mjs",
};
const npx = (args: readonly string[], cwd: string) =>
  run(process.execPath, [path.join(cwd, "node_modules", BINS[args[0]!]!), ...args.slice(1)], cwd);

/** Newest modification time of the files under `dir` (0 when absent). */
function newest(dir: string, pick: (f: string) => boolean = () => true): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const f = path.join(e.parentPath, e.name);
    if (e.isFile() && pick(f)) t = Math.max(t, statSync(f).mtimeMs);
  }
  return t;
}

let dir: string;
let app: string;
const results: Record<string, Run> = {};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "spindel-consumer-"));
  // `npm pack` runs `prepare` (build + scripts/check-dist.mjs); when dist/ is newer than every source
  // file (npm install already ran prepare), the build is skipped and only the check runs
  const fresh = newest(path.join(REPO, "dist"), (f) => f.endsWith(".js")) > newest(path.join(REPO, "src"));
  if (fresh) {
    const check = await run(process.execPath, ["scripts/check-dist.mjs"], REPO);
    expect(check.stderr).toBe("");
  }
  const packed = await run(
    "npm",
    ["pack", "--json", "--pack-destination", dir, ...(fresh ? ["--ignore-scripts"] : [])],
    REPO,
  );
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = path.join(
    dir,
    (JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[/m))) as { filename: string }[])[0]!.filename,
  );

  app = path.join(dir, "app");
  cpSync(PROJECT, app, { recursive: true });
  writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], app);
  expect(install.code, install.stderr).toBe(0);
  // before the tools are linked: no typescript in the project. The runtime and the Vite plugin load;
  // a .js file compiles through acorn, a .ts file gets a clear TypeScriptMissingError
  results.withoutTypeScript = await run(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import spindel from "spindel/vite";
await import("spindel"); await import("spindel/distributed");
const plugin = spindel();
const ctx = { warn() {}, error(e) { throw new Error(e.message); } };
const code = 'import { remoteFn, spinRemote } from "spindel/distributed";\\nexport const f = remoteFn(function f(s, a) { return spinRemote(s, [a], async () => a); });\\n';
const js = await plugin.transform.call(ctx, code, "/app/f.js");
const ts = await Promise.resolve(plugin.transform.call(ctx, code, "/app/f.ts")).then(() => "no error", (e) => e.code);
console.log(JSON.stringify({ js: js.code.includes("registerRemote"), ts }));`,
    ],
    app,
  );
  // the project's own tools, linked after the install (which would prune them as extraneous)
  for (const tool of ["typescript", "ts-patch", "vite", "@types/node"]) {
    mkdirSync(path.dirname(path.join(app, "node_modules", tool)), { recursive: true });
    symlinkSync(path.join(REPO, "node_modules", tool), path.join(app, "node_modules", tool), "dir");
  }

  // the independent steps, at once
  const steps: Record<string, () => Promise<Run>> = {
    // strict, no skipLibCheck, types: ["node"]: also the Node project's type-check
    tspc: () => npx(["tspc", "-p", "tsconfig.json"], app),
    typesWeb: () => npx(["tsc", "-p", "tsconfig.web.json"], app),
    vite: () => npx(["vite", "build", "--logLevel", "warn"], app),
    imports: () =>
      run(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `const out = {};
for (const e of ${JSON.stringify(
            Object.keys(pkg.exports)
              .filter((k) => k !== "./package.json")
              .map((k) => `spindel${k.slice(1)}`),
          )})
  out[e] = Object.keys(await import(e)).length;
out.version = (await import("spindel/package.json", { with: { type: "json" } })).default.version;
console.log(JSON.stringify(out));`,
        ],
        app,
      ),
    require: () =>
      run(
        process.execPath,
        ["--no-warnings", "-e", "console.log(typeof require('spindel').createContext)"],
        app,
      ),
    cliVersion: () => npx(["spindel", "--version"], app),
    cliCheck: () => npx(["spindel", "check", "bad", "src"], app),
  };
  await Promise.all(
    Object.entries(steps).map(async ([name, step]) => {
      results[name] = await step();
    }),
  );
  // after the first tspc: ts-patch caches its patched compiler under a lock
  results.tspcBad = await npx(["tspc", "-p", "tsconfig.bad.json"], app);
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed package, installed in a fresh project", () => {
  test("every export path imports as ESM, and require() of the root works (Node ≥ 20.19)", () => {
    const r = results.imports!;
    expect(r.stderr).toBe("");
    const counts = JSON.parse(r.stdout) as Record<string, number>;
    for (const [name, n] of Object.entries(counts))
      if (name !== "version") expect(n, name).toBeGreaterThan(0);
    expect(counts.version).toBe(pkg.version);
    expect(results.require!.stdout.trim()).toBe("function");
  });

  test("without typescript installed: the runtime and the Vite plugin load, .js compiles, .ts says ERR_TYPESCRIPT_MISSING", () => {
    const r = results.withoutTypeScript!;
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ js: true, ts: "ERR_TYPESCRIPT_MISSING" });
  });

  test("tspc with the documented plugin config compiles; an undeclared capture fails with SPINDEL001", () => {
    expect(results.tspc!.stdout + results.tspc!.stderr).toBe("");
    expect(results.tspc!.code).toBe(0);
    expect(existsSync(path.join(app, "out/remote.js"))).toBe(true);
    expect(readFileSync(path.join(app, "out/remote.js"), "utf8")).toContain('"src/remote:add:0"');
    const bad = results.tspcBad!;
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toMatch(
      /bad\/capture\.ts\(3,44\): error TS99001: SPINDEL001: spinRemote body uses 'secret'/,
    );
  });

  test("strict type-checks without skipLibCheck: a Node project and a browser-only project (no @types/node)", () => {
    // the Node project is tsconfig.json, built by tspc: strict, skipLibCheck false, types node
    expect(results.tspc!.stdout + results.tspc!.stderr).toBe("");
    expect(results.typesWeb!.stdout + results.typesWeb!.stderr).toBe("");
    expect(results.typesWeb!.code).toBe(0);
  });

  test("Vite builds a page with spindel/vite: bodies registered, the browser build without ws or node:http", () => {
    expect(results.vite!.code, results.vite!.stderr).toBe(0);
    const assets = path.join(app, "web-dist/assets");
    const js = readdirSync(assets)
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(path.join(assets, f), "utf8"))
      .join("\n");
    expect(js).toContain("web/main:shout:0");
    expect(js).not.toMatch(/node:http|from"ws"|require\("ws"\)/);
  });

  test("the spindel command: --version, and check reports SPINDEL001 with file:line:col", () => {
    expect(results.cliVersion!.stdout.trim()).toBe(pkg.version);
    const check = results.cliCheck!;
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("bad/capture.ts:3:44 - error SPINDEL001");
  });

  test("a remote call between two processes (code compiled by tspc)", async () => {
    const server: ChildProcess = spawn(process.execPath, ["out/server.js"], {
      cwd: app,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => server.once("exit", resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = "";
        server.stdout!.on("data", (d: Buffer) => {
          buf += d.toString();
          if (buf.includes("\n")) resolve(buf.trim());
        });
        void exited.then((code) => reject(new Error(`server exited (${code})`)));
      });
      const client = await run(process.execPath, ["out/client.js", url], app, 30_000);
      expect(client.stderr).toBe("");
      expect(client.stdout.trim()).toBe("sum=5");
    } finally {
      server.stdin!.end(); // the server closes its peer and exits by itself
      expect(await exited).toBe(0);
    }
  }, 60_000);
});
