/**
 * The rewrite: hoisting, ids, hashes, nested-spin injection, source maps, and agreement between
 * the text rewrite (Vite) and the AST rewrite (ts-patch).
 */
import path from "node:path";
import vm from "node:vm";
import fc from "fast-check";
import * as core from "spindel";
import * as distributed from "spindel/distributed";
import { analyzeSource, bodyHash, moduleKeyFor, normalizeBodyText, transformSource } from "spindel/transform";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import { LoopTarget } from "./e2e/loop-target.js";
import { add } from "./e2e/remote-math.js";
import { REPO, runTsPatch, runVite } from "./helpers.js";

const FILE = path.join(REPO, "src/example/math.ts");

const header = `import { spin } from "spindel";\nimport { remoteFn, spinRemote, type Scope } from "spindel/distributed";\n`;

function rewrite(body: string, file = FILE, options: Parameters<typeof transformSource>[2] = {}) {
  const out = transformSource(file, header + body, options);
  expect(out.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return out;
}

describe("hoisting", () => {
  test("the body moves to module level as a factory of its declared names; the call becomes invokeRemote", () => {
    const src = `export const add = remoteFn(function add(scope: Scope, x: number, y: number) {
  return spinRemote(scope, [x, y], async ($) => x + y);
});
`;
    const out = rewrite(src);
    const { hash } = out.analysis.remotes[0]!;
    expect(out.code).toBe(
      `${header}import * as __spindel_rt from "spindel/distributed";
const __spindel_remote_add_0 = __spindel_rt.registerRemote("src/example/math:add:0", ["x","y"], "${hash}", (x, y) => async ($) => x + y);

export const add = remoteFn(function add(scope: Scope, x: number, y: number) {
  return __spindel_rt.invokeRemote(__spindel_remote_add_0, scope, [x, y]);
});
`,
    );
    expect(hash).toBe(bodyHash(["x", "y"], "async ($) => x + y"));
  });

  test("ids: <module key>:<remoteFn name>:<pre-order ordinal>; the name comes from the function or the variable", () => {
    const src = `export const outer = remoteFn(function named(s: Scope, a: number) {
  const one = spinRemote(s, [a, s], () => spinRemote(s, [a], () => a));
  const two = spinRemote(s, [a], () => a + 1);
  return [one, two];
});
export const byVariable = remoteFn((s: Scope) => spinRemote(s, [], () => 0));
const table = { prop: remoteFn((s: Scope) => spinRemote(s, [], () => 1)) };
export default remoteFn((s: Scope) => spinRemote(s, [], () => 2));
export const again = remoteFn(function named(s: Scope) { return spinRemote(s, [], () => 3); });
`;
    const ids = rewrite(src).analysis.remotes.map((r) => r.id);
    expect(ids).toEqual([
      "src/example/math:named:0",
      "src/example/math:named:1",
      "src/example/math:named:2",
      "src/example/math:byVariable:0",
      "src/example/math:prop:0",
      "src/example/math:default:0",
      "src/example/math:named:3",
    ]);
  });

  test("the module key is the path relative to the nearest package.json, without extension or query", () => {
    expect(moduleKeyFor(FILE)).toBe("src/example/math");
    expect(moduleKeyFor(`${FILE}?v=123`)).toBe("src/example/math");
    expect(moduleKeyFor(path.join(REPO, "a/b.mjs"))).toBe("a/b");
    expect(moduleKeyFor(FILE, path.join(REPO, "src"))).toBe("example/math");
    const a = rewrite(`export const f = remoteFn((s: Scope) => spinRemote(s, [], () => 1));`, FILE, {
      root: path.join(REPO, "src"),
    });
    expect(a.analysis.remotes[0]!.id).toBe("example/math:f:0");
  });

  test("the runtime module specifier can be overridden", () => {
    const out = rewrite(`export const f = remoteFn((s: Scope) => spinRemote(s, [], () => 1));`, FILE, {
      runtimeModule: "../runtime.js",
    });
    expect(out.code).toContain(`import * as __spindel_rt from "../runtime.js";`);
  });

  test("generated names never clash with names of the module", () => {
    const out = rewrite(
      `const __spindel_rt = 1; const __spindel_remote_f_0 = 2;\nexport const f = remoteFn((s: Scope) => spinRemote(s, [], () => __spindel_rt + __spindel_remote_f_0));`,
    );
    expect(out.code).toContain("import * as __spindel_rt_1 from");
    expect(out.code).toContain("const __spindel_remote_f_0_1 = __spindel_rt_1.registerRemote(");
    expect(out.code).toContain("__spindel_rt_1.invokeRemote(__spindel_remote_f_0_1, s, [])");
  });

  test("generated code goes after the leading directives and imports (and after a shebang)", () => {
    const js = `#!/usr/bin/env node\n"use strict";\nimport { remoteFn, spinRemote } from "spindel/distributed";\nconst k = 1;\nexport const f = remoteFn((s) => spinRemote(s, [], () => k));\n`;
    const out = transformSource(path.join(REPO, "x.mjs"), js);
    const lines = out.code.split("\n");
    expect(lines.slice(0, 5)).toEqual([
      "#!/usr/bin/env node",
      '"use strict";',
      'import { remoteFn, spinRemote } from "spindel/distributed";',
      'import * as __spindel_rt from "spindel/distributed";',
      expect.stringMatching(
        /^const __spindel_remote_f_0 = __spindel_rt\.registerRemote\("x:f:0", \[\], "[0-9a-f]{16}", \(\) => \(\) => k\);$/,
      ),
    ]);
  });

  test("nested spinRemote: inner definition first, the outer body calls it by id", () => {
    const out = rewrite(
      `export const relay = remoteFn(function relay(s: Scope, n: Scope, v: number) {\n  return spinRemote(s, [n, v], async ($) => $.await(spinRemote(n, [v], () => v)));\n});\n`,
    );
    const defs = out.code.split("\n").filter((l) => l.startsWith("const __spindel_remote"));
    expect(defs).toHaveLength(2);
    expect(defs[0]).toMatch(
      /^const __spindel_remote_relay_1 = .*"src\/example\/math:relay:1", \["v"\].*\(v\) => \(\) => v\);$/,
    );
    expect(defs[1]).toContain(
      "(n, v) => async ($) => $.await(__spindel_rt.invokeRemote(__spindel_remote_relay_1, n, [v])));",
    );
    expect(out.code).toContain("return __spindel_rt.invokeRemote(__spindel_remote_relay_0, s, [n, v]);");
  });

  test("wrappers around the body (parentheses, `as`, comments, a trailing comma) go with the call", () => {
    const out = rewrite(
      `export const f = remoteFn((s: Scope, a: number) => spinRemote(s, [a], (async () => a) as never /* c */, ));`,
    );
    expect(out.code).toContain("(a) => async () => a);");
    expect(out.code).toContain(
      "export const f = remoteFn((s: Scope, a: number) => __spindel_rt.invokeRemote(__spindel_remote_f_0, s, [a]));",
    );
  });

  test("calls with errors are left alone (they throw TransformNotConfiguredError if reached); valid ones are rewritten", () => {
    const out = transformSource(
      FILE,
      `${header}export const f = remoteFn(function f(s: Scope, a: number) {\n  return [spinRemote(s, [], () => a), spinRemote(s, [a], () => a)];\n});\n`,
    );
    expect(out.diagnostics.map((d) => d.code)).toEqual(["SPINDEL001"]);
    expect(out.code).toContain("spinRemote(s, [], () => a)");
    expect(out.code).toContain("__spindel_rt.invokeRemote(__spindel_remote_f_1, s, [a])");
    expect(() => transformSource(FILE, out.code.replace(/^/, ""), { throwOnError: true })).toThrow(
      /SPINDEL001/,
    );
  });

  test("files that import nothing from spindel are not rewritten", () => {
    const src = `import { spinRemote, remoteFn } from "./elsewhere.js";\nexport const f = remoteFn((s) => spinRemote(s, [], () => 1));`;
    const out = transformSource(FILE, src);
    expect(out.changed).toBe(false);
    expect(out.diagnostics).toEqual([]);
    const custom = transformSource(FILE, src, { importSources: ["./elsewhere.js"] });
    expect(custom.changed).toBe(true);
    const pattern = transformSource(FILE, src, { importSources: ["/elsewhere/"] });
    expect(pattern.changed).toBe(true);
  });
});

describe("hash", () => {
  test("re-indentation and blank lines do not change it; any other edit does", () => {
    const body = "async ($) => {\n  const a = x + 1;\n  return a;\n}";
    const h = bodyHash(["x"], body);
    expect(bodyHash(["x"], "async ($) => {\r\n\n      const a = x + 1;\n      return a;\n    }")).toBe(h);
    expect(bodyHash(["x"], body.replace("+ 1", "+ 2"))).not.toBe(h);
    expect(bodyHash(["y"], body)).not.toBe(h);
    expect(bodyHash(["x", "y"], body)).not.toBe(h);
    expect(normalizeBodyText("  a\n\n   b  \r\n")).toBe("a\nb");
  });

  test("property: indentation changes keep the hash, a changed token changes it", () => {
    const lineArb = fc.stringMatching(/^[a-z0-9+*() =;]{1,20}$/);
    fc.assert(
      fc.property(
        fc.array(lineArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(8), { minLength: 8, maxLength: 8 }),
        (lines, indents) => {
          const plain = lines.join("\n");
          const indented = lines.map((l, i) => " ".repeat(indents[i % 8]!) + l).join("\n\n");
          expect(bodyHash(["p"], indented)).toBe(bodyHash(["p"], plain));
          const changed = `${plain}x`;
          expect(bodyHash(["p"], changed)).not.toBe(bodyHash(["p"], plain));
        },
      ),
    );
  });
});

describe("nested spins", () => {
  const sites = (body: string) => rewrite(body).analysis.spins.map((s) => ({ deps: s.deps, key: s.key }));

  test("captured enclosing locals become deps; a call site key is added", () => {
    const src = `const MODULE_LEVEL = 1;
export const outer = spin(async ($) => {
  const a = 1, b = { c: 2 };
  const inner = spin(() => a + b.c + MODULE_LEVEL + Math.PI);
  return $.await(inner);
});
`;
    const out = rewrite(src);
    expect(out.code).toContain(
      `spin(() => a + b.c + MODULE_LEVEL + Math.PI, { deps: [a, b], key: "src/example/math:6:17" })`,
    );
  });

  test("a `this` an arrow body takes from an enclosing method is a dep; a function body's own `this` is not", () => {
    const src = `export class Cart {
  items = 1;
  total = spin(async ($) => {
    const tax = 2;
    const sum = spin(() => this.items + tax);
    const own = spin(function (this: unknown) { return this; });
    return $.await(sum);
  });
}
`;
    const out = rewrite(src);
    expect(out.code).toContain(
      `spin(() => this.items + tax, { deps: [tax, this], key: "src/example/math:7:17" })`,
    );
    expect(out.code).toContain(
      `spin(function (this: unknown) { return this; }, { deps: [], key: "src/example/math:8:17" })`,
    );
  });

  test("existing options are extended; deps given by the user (even undefined) are respected; a user key is kept", () => {
    const src = `spin(($) => {
  const v = 1;
  spin(() => v, { name: "n" });
  spin(() => v, {});
  spin(() => v, { deps: [] });
  spin(() => v, { deps: undefined });
  spin(() => v, { key: "mine" });
  spin(() => v, { name: "t", });
});
`;
    const out = rewrite(src);
    expect(out.code).toContain(`spin(() => v, { name: "n", deps: [v], key: "src/example/math:5:3" });`);
    expect(out.code).toContain(`spin(() => v, { deps: [v], key: "src/example/math:6:3" });`);
    expect(out.code).toContain(`spin(() => v, { deps: [] });`);
    expect(out.code).toContain(`spin(() => v, { deps: undefined });`);
    expect(out.code).toContain(`spin(() => v, { key: "mine", deps: [v] });`);
    expect(out.code).toContain(`spin(() => v, { name: "t", deps: [v], key: "src/example/math:10:3", });`);
  });

  test("a parenthesised (or asserted) body gets its options after the parentheses", () => {
    const out = rewrite(`spin(($) => {
  const v = 1;
  spin((() => v));
  spin((() => v) as () => number);
});`);
    expect(out.code).toContain(`spin((() => v), { deps: [v], key: "src/example/math:5:3" });`);
    expect(out.code).toContain(
      `spin((() => v) as () => number, { deps: [v], key: "src/example/math:6:3" });`,
    );
    const js = transformSource(
      path.join(REPO, "x.mjs"),
      `import { spin } from "spindel";
spin(($) => { const v = 1; return spin(((() => v))); });`,
    );
    expect(js.code).toContain("spin(((() => v)), { deps: [v], key: ");
  });

  test("no key in loops, in callbacks, or after an await (for spin(); $.spin keeps its parent)", () => {
    expect(
      sites(`spin(async ($) => {
  for (const i of [1, 2]) spin(() => i);
  [1].map((j) => spin(() => j));
  await null;
  const k = 1;
  spin(() => k);
  $.spin(() => k);
});`),
    ).toEqual([
      { deps: ["i"], key: undefined },
      { deps: ["j"], key: undefined },
      { deps: ["k"], key: undefined },
      { deps: ["k"], key: "src/example/math:9:3" },
    ]);
  });

  test("left alone: top-level spins, spread or non-literal options, and captures not initialised yet", () => {
    expect(
      sites(`const top = 1;
spin(() => top);
const opts = {};
spin(($) => {
  const a = 1;
  spin(() => a, opts);
  spin(() => a, { ...opts });
  const self = spin(() => self);
  const early = spin(() => later);
  const later = 2;
  return [early];
});`),
    ).toEqual([]);
  });

  test("spin bodies of spinRemote count as spin bodies; $.spin of another scope is not ours", () => {
    const out = rewrite(`export const f = remoteFn(function f(s: Scope, a: number) {
  return spinRemote(s, [a], async ($) => {
    const other = { spin: (x: unknown) => x };
    other.spin(() => a);
    return $.await($.spin(() => a));
  });
});`);
    expect(out.analysis.spins.map((s) => s.deps)).toEqual([["a"]]);
    expect(out.code).toContain(`$.spin(() => a, { deps: [a], key: "src/example/math:7:20" })`);
  });

  test("$.spin bodies are spin bodies too: nested $$.spin and spin calls inside them get keys", () => {
    expect(
      sites(`spin(async ($) => {
  const a = 1;
  return $.await($.spin(($$) => {
    const b = a;
    $$.spin(() => b);
    return spin(() => a + b);
  }));
});`),
    ).toEqual([
      { deps: ["a"], key: "src/example/math:5:18" },
      { deps: ["b"], key: "src/example/math:7:5" },
      { deps: ["a", "b"], key: "src/example/math:8:12" },
    ]);
  });

  test("the nestedSpinDeps option turns injection off", () => {
    const src = `${header}spin(($) => { const v = 1; return spin(() => v); });`;
    expect(transformSource(FILE, src, { nestedSpinDeps: false }).changed).toBe(false);
  });
});

describe("the text rewrite (Vite) and the AST rewrite (ts-patch) agree", () => {
  const files = [
    path.join(REPO, "test/transform/e2e/remote-math.ts"),
    path.join(REPO, "test/transform/fixtures/good/basic.ts"),
    path.join(REPO, "test/transform/fixtures/good/nested-remote.ts"),
    path.join(REPO, "test/transform/fixtures/good/plain.mjs"),
  ];
  const registrations = (code: string) =>
    [...code.matchAll(/registerRemote\("([^"]+)", \[([^\]]*)\], "([0-9a-f]{16})"/g)].map((m) => [
      m[1],
      m[2]!.replace(/\s/g, ""),
      m[3],
    ]);
  const keys = (code: string) => [...code.matchAll(/key: "([^"]+)"/g)].map((m) => m[1]);
  const deps = (code: string) => [...code.matchAll(/deps: \[([^\]]*)\]/g)].map((m) => m[1]);

  test("same ids, names, hashes, injected keys and call sites", async () => {
    const { output } = runTsPatch(files);
    for (const file of files) {
      const { readFileSync } = await import("node:fs");
      const viaVite = transformSource(file, readFileSync(file, "utf8")).code;
      const viaTs = output.get(file)!;
      expect(viaTs).toBeDefined();
      expect(registrations(viaTs)).toEqual(registrations(viaVite));
      expect(registrations(viaTs).length).toBeGreaterThan(0);
      expect(keys(viaTs)).toEqual(keys(viaVite));
      expect(deps(viaTs)).toEqual(deps(viaVite));
      expect(viaTs.match(/invokeRemote\(/g)?.length).toBe(viaVite.match(/invokeRemote\(/g)?.length);
      expect(viaTs).not.toMatch(/\bspinRemote\(/);
    }
  });

  test("code compiled by ts-patch (as CommonJS) runs and registers the same ids and hashes as the Vite build", async () => {
    const file = path.join(REPO, "test/transform/e2e/remote-math.ts");
    const { output } = runTsPatch([file], {}, { module: ts.ModuleKind.CommonJS });
    const js = output.get(file)!;
    expect(js).toContain('require("spindel/distributed")');
    const mod = { exports: {} as Record<string, unknown> };
    const requireStub = (spec: string) => {
      if (spec === "spindel") return core;
      if (spec === "spindel/distributed") return distributed;
      throw new Error(`unexpected require ${spec}`);
    };
    // registering the same ids again only works if the hashes are the same as the Vite build's
    vm.runInThisContext(`(function (exports, require, module) {${js}\n})`)(mod.exports, requireStub, mod);
    const tsAdd = mod.exports.add as typeof add;
    expect(tsAdd).not.toBe(add);
    const server = core.createContext();
    const client = core.createContext();
    const target = new LoopTarget(new Map([["default", server]]));
    expect(await client.value(tsAdd(target, 20, 22))).toBe(42);
    expect(target.frames[0]!.fn).toBe("test/transform/e2e/remote-math:add:0");
  });

  test("import elision does not drop the generated runtime import (without verbatimModuleSyntax)", () => {
    const file = path.join(REPO, "test/transform/fixtures/good/basic.ts");
    const { output } = runTsPatch([file], {}, { verbatimModuleSyntax: false });
    expect(output.get(file)).toContain('import * as __spindel_rt from "spindel/distributed";');
  });

  test("the ts-patch plugin entry's options: runtimeModule, importSources, nestedSpinDeps", () => {
    const file = path.join(REPO, "test/transform/fixtures/good/basic.ts");
    const custom = runTsPatch([file], { runtimeModule: "./rt.js", nestedSpinDeps: false }).output.get(file)!;
    expect(custom).toContain('import * as __spindel_rt from "./rt.js";');
    expect(custom).not.toContain("deps:");
    const none = runTsPatch([file], { importSources: ["nothing"] }).output.get(file)!;
    expect(none).not.toContain("__spindel_rt");
  });
});

describe("source maps", () => {
  // a small VLQ decoder, enough to look up where a generated position comes from
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function decode(mappings: string): [number, number, number, number][][] {
    const lines: [number, number, number, number][][] = [];
    let srcLine = 0;
    let srcCol = 0;
    let src = 0;
    for (const line of mappings.split(";")) {
      const segs: [number, number, number, number][] = [];
      let genCol = 0;
      for (const seg of line.split(",")) {
        if (seg === "") continue;
        const vals: number[] = [];
        let value = 0;
        let shift = 0;
        for (const ch of seg) {
          const d = B64.indexOf(ch);
          value += (d & 31) << shift;
          if (d & 32) shift += 5;
          else {
            vals.push(value & 1 ? -(value >> 1) : value >> 1);
            value = 0;
            shift = 0;
          }
        }
        genCol += vals[0]!;
        if (vals.length >= 4) {
          src += vals[1]!;
          srcLine += vals[2]!;
          srcCol += vals[3]!;
          segs.push([genCol, src, srcLine, srcCol]);
        }
      }
      lines.push(segs);
    }
    return lines;
  }

  test("the hoisted body maps back to where it was written", () => {
    const body = `\nexport const add = remoteFn(function add(scope: Scope, x: number) {\n  return spinRemote(scope, [x], async ($) => {\n    return x * 2;\n  });\n});\n`;
    const src = header + body;
    const out = rewrite(body);
    const map = out.map!;
    expect(map.sources).toEqual([FILE]);
    const decoded = decode(map.mappings);
    const genLines = out.code.split("\n");
    const genLine = genLines.findIndex((l) => l.includes("return x * 2;"));
    const srcLines = src.split("\n");
    const srcLine = srcLines.findIndex((l) => l.includes("return x * 2;"));
    expect(genLine).toBeLessThan(srcLine); // it moved up, to module level
    const col = genLines[genLine]!.indexOf("x * 2");
    const seg = [...decoded[genLine]!].reverse().find((s) => s[0] <= col)!;
    expect(seg[2]).toBe(srcLine);
    // and the rewritten call site still maps to the call
    const callLine = genLines.findIndex((l) => l.includes("invokeRemote("));
    expect(
      decoded[callLine]!.some((s) => s[2] === srcLines.findIndex((l) => l.includes("spinRemote(scope"))),
    ).toBe(true);
  });
});

describe("the Vite plugin", () => {
  test("skips node_modules, virtual modules, non-script files and files without a spindel import", () => {
    const code = `${header}export const f = remoteFn((s: Scope) => spinRemote(s, [], () => 1));`;
    expect(runVite("/x/node_modules/pkg/index.ts", code).result).toBeNull();
    expect(runVite("\0virtual:thing.ts", code).result).toBeNull();
    expect(runVite("/x/style.css", code).result).toBeNull();
    expect(runVite("/x/a.ts", "export const x = 1;").result).toBeNull();
    expect(runVite("/x/a.ts?import&v=1", code).result).toMatchObject({
      code: expect.stringContaining("invokeRemote"),
    });
    expect(runVite("/x/a.ts", code, { include: /\.mts$/ }).result).toBeNull();
  });

  test("errors carry file:line:col, the code and a code frame; warnings can be turned off", () => {
    const bad = `${header}export const f = remoteFn(function f(s: Scope, a: number, u: number) {\n  return spinRemote(s, [u], () => a);\n});\n`;
    const run = runVite("/x/bad.ts", bad);
    expect(run.error!.message).toBe(
      "/x/bad.ts:4:35 - error SPINDEL001: spinRemote body uses 'a', a local of an enclosing function, without declaring it. Missing: [a]. Declared: [u]. Fix: add 'a' to the declared list: spinRemote(s, [u, a], …), or define 'a' inside the body.",
    );
    expect((run.error as { frame?: string }).frame).toBe(
      "4 |   return spinRemote(s, [u], () => a);\n  |                                   ^",
    );
    expect(run.warnings.map((w) => w.pluginCode)).toEqual(["SPINDEL010"]);
    expect(runVite("/x/bad.ts", bad, { warnings: false }).warnings).toEqual([]);
    const seen: string[] = [];
    runVite("/x/bad.ts", bad, { onDiagnostics: (file, list) => seen.push(`${file}:${list.length}`) });
    expect(seen).toEqual(["/x/bad.ts:2"]);
  });
});

describe("property: captures are exactly the used enclosing locals that are not declared", () => {
  const NAMES = ["a", "b", "c", "d", "e", "f", "g", "h"];
  test("random enclosing locals, module-level names, declared lists and uses (TS and acorn agree)", () => {
    fc.assert(
      fc.property(
        fc.subarray(NAMES),
        fc.subarray(NAMES),
        fc.subarray(NAMES),
        fc.subarray(NAMES),
        fc.subarray(NAMES),
        (enclosing, moduleLevel, declaredRaw, used, inner) => {
          const module = moduleLevel.filter((n) => !enclosing.includes(n));
          const declared = declaredRaw.filter((n) => enclosing.includes(n));
          const src = `import { remoteFn, spinRemote } from "spindel/distributed";
${module.map((n) => `const ${n} = 0;`).join("\n")}
export const fx = remoteFn(function fn(s) {
  ${enclosing.map((n) => `let ${n} = 1;`).join(" ")}
  return spinRemote(s, [${declared.join(", ")}], async () => {
    ${inner.map((n) => `const ${n} = 2;`).join(" ")}
    return [${used.join(", ")}];
  });
});
`;
          const file = path.join(REPO, "gen.mjs");
          const viaAcorn = analyzeSource(file, src, { parser: "acorn" }).diagnostics;
          const viaTs = analyzeSource(file, src, { parser: "typescript" }).diagnostics;
          expect(viaAcorn).toEqual(viaTs);
          const expectedMissing = used.filter(
            (n) => enclosing.includes(n) && !declared.includes(n) && !inner.includes(n),
          );
          const missing = viaAcorn.filter((d) => d.code === "SPINDEL001").map((d) => d.names[0]);
          expect(missing).toEqual(expectedMissing);
          const unused = viaAcorn.filter((d) => d.code === "SPINDEL010").map((d) => d.names[0]);
          expect(unused).toEqual(declared.filter((n) => !used.includes(n) || inner.includes(n)));
          expect(viaAcorn.filter((d) => d.code !== "SPINDEL001" && d.code !== "SPINDEL010")).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
