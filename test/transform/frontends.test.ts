/**
 * The two front ends (TypeScript's parser and acorn) must build the same model from the same
 * JavaScript: same scopes and bindings, same references resolved to the same declarations, same
 * this/super/new.target/with, same calls. Checked on real-world code from node_modules and on
 * constructs picked to be awkward.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseModule } from "spindel/transform";
import { describe, expect, test } from "vitest";
import { type ModuleModel, resolve } from "../../src/transform/model.js";

const require = createRequire(import.meta.url);
const pkgDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));

function normalize(m: ModuleModel) {
  return {
    references: m.references.map((r) => {
      const b = resolve(r);
      return `${r.name}@${r.start}-${r.end}->${b ? `${b.kind}:${b.start}:${b.scope.kind}` : "global"}`;
    }),
    specials: m.specials.map((s) => `${s.kind}@${s.start}:${s.thisScope?.start ?? "-"}`),
    calls: m.calls.map(
      (c) =>
        `${c.start}-${c.end}:${JSON.stringify(c.args.map((a) => [a.kind, a.start, a.end]))}:${c.assignedName ?? ""}`,
    ),
    scopes: m.scopes
      .map((s) => `${s.kind}@${s.start}-${s.end}:${[...s.bindings.keys()].sort().join(",")}`)
      .sort(),
    loops: m.loops.map((l) => `${l.start}-${l.end}`).sort(),
    awaits: m.awaits.map((a) => a.start).sort((a, b) => a - b),
    insertionPoint: m.insertionPoint,
  };
}

function expectParity(file: string, text: string): void {
  const viaAcorn = parseModule(file, text, "acorn");
  const viaTs = parseModule(file, text, "typescript");
  expect(viaAcorn.parseErrors).toEqual([]);
  const a = normalize(viaAcorn);
  const t = normalize(viaTs);
  for (const key of Object.keys(a) as (keyof typeof a)[]) expect(t[key], `${file}: ${key}`).toEqual(a[key]);
}

describe("front-end parity on real-world JavaScript", () => {
  const files = [
    path.join(pkgDir("acorn"), "dist/acorn.mjs"),
    path.join(pkgDir("acorn-walk"), "dist/walk.mjs"),
    path.join(pkgDir("magic-string"), "dist/magic-string.es.mjs"),
    path.join(pkgDir("ws"), "lib/websocket.js"),
    path.join(pkgDir("cbor-x"), "decode.js"),
    path.join(pkgDir("cbor-x"), "encode.js"),
    path.join(pkgDir("fast-check"), "lib/fast-check.js"),
  ];
  test.each(files.map((f) => [path.relative(process.cwd(), f), f]))("%s", (_n, file) => {
    expectParity(file, readFileSync(file, "utf8"));
  });
});

describe("front-end parity on awkward constructs", () => {
  const snippets: Record<string, string> = {
    "hoisting and shadowing": `var a = 1; function f(a, b = a) { var a; { let a = 2; } return b; } function a2() { return g(); function g() {} }`,
    classes: `class A extends (class B {}) { static #p = 1; #q; [k] = this.#q; static { this.x = A; } m() { return super.m() + new.target; } get g() { return 1; } static s() {} }
const C = class D { d = D; };`,
    "destructuring and defaults": `const { a, b: { c = d } = {}, ...rest } = o; let [e, , f = e, ...g] = arr; ({ a, b: h.i, [j]: k = l } = m); [n, ...o2] = p;`,
    "loops, labels, catch, switch": `outer: for (let i = 0; i < 3; i++) { for (const x of xs) { if (x) continue outer; } } for (var k in o) {} while (a) { do { b(); } while (c); }
try { t(); } catch ({ message }) { m = message; } finally { z(); } try {} catch {} switch (v) { case 1: let w = 2; break; default: w; }`,
    "functions and this": `function f() { return [this, arguments, () => this, () => arguments]; } const o = { m() { return this; }, get g() { return 1; }, set s(v) {}, async *ag() { yield* []; for await (const x of y) {} } };`,
    "calls and names": `const v = call(a, ...b, () => 1, function named() { return named; }, [x, , ...y], { p: 1, q, ...r, m() {}, [c]: 2 }); obj.prop = fn(); ({ key: g() }); export default h(); let z; z = (i)(); j?.(); k?.l();`,
    modules: `import d, { a as b, c } from "m"; import * as ns from "n"; export { b as e, c }; export const f = () => ns.x + d; export function g() {} export class H {} export * from "o";`,
    "templates and tagged": `const t = tag\`a\${b}c\${d}\`; const u = \`\${e}\`; new F(...g); function nt() { return new.target; } typeof h; delete i.j; void k; l ??= m; n ||= o;`,
    "directives and top-level await": `"use strict"; import a from "a"; await a(); const x = await import("y");`,
    "regexp, numbers, comments": `/* { */ const r = /[/\\]]+/g; // }\nconst n = 1_000n + 0x1f; /** @type {number} */ const c = n;`,
  };
  test.each(Object.entries(snippets))("%s", (_n, text) => {
    expectParity("snippet.mjs", text);
  });
});
