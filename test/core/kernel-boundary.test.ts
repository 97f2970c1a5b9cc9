/**
 * The primitives (`src/core/prims/`) reach the kernel only through `kernel/prim-api.ts`: they import
 * no other kernel module (not even for a type), and they read or write no member the kernel
 * declares on a type the package does not publish (a node's `holds`, `run`, `eager`, `flags`…, a
 * run's `onSettled`…), whatever the path to the object (a context method that returns a node
 * counts too). Members of published types the kernel declares (errors, the once-wait protocol,
 * handle bases) are public API. Checked with the type checker, so
 * a prim's own field that happens to share a name (a supervisor slot's `run`) is not confused with
 * the kernel's. A probe file with known violations shows the check is not vacuous.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CORE = path.join(ROOT, "src/core");
const PRIMS = path.join(CORE, "prims");
const KERNEL = path.join(CORE, "kernel");
const PRIM_API = path.join(KERNEL, "prim-api.ts");
const PROBE = path.join(PRIMS, "__boundary_probe__.ts");
const PUBLIC_INDEX = path.join(CORE, "index.ts");

const PROBE_SOURCE = `
import type { Context } from "../context.js";
import type { Spin } from "../spin.js";
import { nodeOf } from "../kernel/prim-api.js";
import type { SpinNode } from "../kernel/node.js";
export function probe(ctx: Context, s: Spin<unknown>): boolean {
  const n = nodeOf(ctx, s);
  n.holds++;
  const { eager } = n;
  return ctx._ownNode(s).run !== null || eager || (n as SpinNode)["flags"] > 0;
}
`;

function compilerOptions(): ts.CompilerOptions {
  const file = path.join(ROOT, "tsconfig.json");
  const json = ts.readConfigFile(file, ts.sys.readFile.bind(ts.sys));
  return { ...ts.parseJsonConfigFileContent(json.config, ts.sys, ROOT).options, noEmit: true };
}

function primFiles(): string[] {
  return readdirSync(PRIMS)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(PRIMS, f));
}

/** `file`'s import/export specifiers that resolve into the kernel, other than prim-api. */
function kernelImports(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  for (const st of sf.statements) {
    const spec = ts.isImportDeclaration(st) || ts.isExportDeclaration(st) ? st.moduleSpecifier : undefined;
    if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith(".")) continue;
    const target = path.resolve(path.dirname(sf.fileName), spec.text.replace(/\.js$/, ".ts"));
    if (target.startsWith(KERNEL + path.sep) && target !== PRIM_API) out.push(spec.text);
  }
  return out;
}

/**
 * The declarations of every class and interface the package publishes (`src/core/index.ts`), with
 * their base classes and interfaces: the kernel declares some of them (errors, the once-wait
 * protocol, the handle bases), and their members are public API, not kernel internals.
 */
function publicTypes(program: ts.Program, checker: ts.TypeChecker): Set<ts.Declaration> {
  const out = new Set<ts.Declaration>();
  const index = program.getSourceFile(PUBLIC_INDEX);
  const mod = index === undefined ? undefined : checker.getSymbolAtLocation(index);
  if (mod === undefined) throw new Error("src/core/index.ts has no module symbol");
  const addType = (type: ts.Type): void => {
    const sym = type.getSymbol();
    if (sym === undefined) return;
    const decls = (sym.declarations ?? []).filter((d) => !out.has(d));
    if (decls.length === 0) return; // seen already
    for (const d of decls) out.add(d);
    if (!(type.flags & ts.TypeFlags.Object)) return;
    if ((type as ts.ObjectType).objectFlags & (ts.ObjectFlags.Class | ts.ObjectFlags.Interface))
      for (const base of checker.getBaseTypes(type as ts.InterfaceType)) addType(base);
  };
  for (let sym of checker.getExportsOfModule(mod)) {
    if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    if (sym.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))
      addType(checker.getDeclaredTypeOfSymbol(sym));
  }
  return out;
}

/**
 * Members declared by a kernel module (other than prim-api) on a type the package does not
 * publish (a node, a run, a log entry…) that `sf` reads or writes.
 */
function kernelMembers(sf: ts.SourceFile, checker: ts.TypeChecker, published: Set<ts.Declaration>): string[] {
  const out: string[] = [];
  const kernelDeclared = (sym: ts.Symbol | undefined): boolean => {
    const decls = sym?.declarations;
    if (decls === undefined || decls.length === 0) return false;
    return decls.every((d) => {
      const f = path.resolve(d.getSourceFile().fileName);
      return f.startsWith(KERNEL + path.sep) && f !== PRIM_API && !published.has(d.parent as ts.Declaration);
    });
  };
  const note = (node: ts.Node, name: string): void => {
    const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push(`${path.basename(sf.fileName)}:${line + 1} .${name}`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node)) {
      if (kernelDeclared(checker.getSymbolAtLocation(node.name))) note(node, node.name.text);
    } else if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
      const prop = checker.getTypeAtLocation(node.expression).getProperty(node.argumentExpression.text);
      if (kernelDeclared(prop)) note(node, node.argumentExpression.text);
    } else if (ts.isObjectBindingPattern(node)) {
      const type = checker.getTypeAtLocation(node);
      for (const el of node.elements) {
        const key = el.propertyName ?? el.name;
        if (!ts.isIdentifier(key)) continue;
        if (kernelDeclared(type.getProperty(key.text))) note(el, key.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function analyze(): Map<string, { imports: string[]; members: string[] }> {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === PROBE
      ? ts.createSourceFile(name, PROBE_SOURCE, lang, true)
      : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === PROBE || fileExists(name);
  const program = ts.createProgram([...primFiles(), PROBE, PUBLIC_INDEX], options, host);
  const checker = program.getTypeChecker();
  const published = publicTypes(program, checker);
  const out = new Map<string, { imports: string[]; members: string[] }>();
  for (const file of [...primFiles(), PROBE]) {
    const sf = program.getSourceFile(file);
    if (sf === undefined) throw new Error(`not in the program: ${file}`);
    out.set(path.basename(file), {
      imports: kernelImports(sf),
      members: kernelMembers(sf, checker, published),
    });
  }
  return out;
}

test("src/core/prims reaches the kernel only through kernel/prim-api.ts", () => {
  const found = analyze();
  const probe = found.get(path.basename(PROBE))!;
  found.delete(path.basename(PROBE));
  // the check sees what it must: a kernel type import, field reads and writes on any path
  expect(probe.imports).toEqual(["../kernel/node.js"]);
  expect(probe.members.map((m) => m.replace(/^.*:\d+ /, ""))).toEqual([".holds", ".eager", ".run", ".flags"]);
  // and the primitives do none of it
  expect(found.size).toBeGreaterThanOrEqual(9);
  const violations = [...found].flatMap(([f, v]) => [
    ...v.imports.map((i) => `${f} imports ${i}`),
    ...v.members.map((m) => `${m}`),
  ]);
  expect(violations).toEqual([]);
}, 60_000);
