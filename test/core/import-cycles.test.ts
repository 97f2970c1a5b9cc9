/**
 * `src/core` has no import cycle: the graph of its value imports (type-only imports are erased
 * and do not count) is acyclic, and no module wires another through a load-time setter.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";

const CORE = fileURLToPath(new URL("../../src/core/", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(path.join(dir, d.name)) : d.name.endsWith(".ts") ? [path.join(dir, d.name)] : [],
  );
}

/** Value imports (and re-exports) of `file` that resolve inside src/core. */
function valueImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const out: string[] = [];
  for (const st of sf.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        clause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (onlyTypes) continue;
      spec = st.moduleSpecifier;
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier !== undefined && !st.isTypeOnly) {
      const named = st.exportClause;
      if (named !== undefined && ts.isNamedExports(named) && named.elements.every((e) => e.isTypeOnly))
        continue;
      spec = st.moduleSpecifier;
    }
    if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) continue;
    const target = path.resolve(path.dirname(file), spec.text.replace(/\.js$/, ".ts"));
    if (target.startsWith(CORE)) out.push(target);
  }
  return out;
}

test("src/core has no import cycle", () => {
  const graph = new Map(files(CORE).map((f) => [f, valueImports(f)]));
  const cycles: string[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (f: string, stack: string[]): void => {
    state.set(f, 1);
    for (const g of graph.get(f) ?? []) {
      if (state.get(g) === 1)
        cycles.push([...stack.slice(stack.indexOf(g)), g].map((x) => path.relative(CORE, x)).join(" -> "));
      else if (state.get(g) === undefined) visit(g, [...stack, g]);
    }
    state.set(f, 2);
  };
  for (const f of graph.keys()) if (state.get(f) === undefined) visit(f, [f]);
  expect(cycles).toEqual([]);
  expect(graph.size).toBeGreaterThan(20);
});

test("no load-time setter wires one core module into another", () => {
  const setters = files(CORE).filter((f) => /export function set\w*Factory\b/.test(readFileSync(f, "utf8")));
  expect(setters).toEqual([]);
});

test("the kernel imports nothing of src outside src/core/kernel (types aside)", () => {
  const KERNEL = path.join(CORE, "kernel");
  const out: string[] = [];
  for (const f of files(KERNEL))
    for (const g of valueImports(f))
      if (!g.startsWith(KERNEL + path.sep))
        out.push(`${path.relative(CORE, f)} -> ${path.relative(CORE, g)}`);
  expect(out).toEqual([]);
  expect(files(KERNEL).length).toBeGreaterThan(5);
});
