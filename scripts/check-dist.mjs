#!/usr/bin/env node
// After a build: every path in package.json "exports" (every condition) and "bin" exists, and every
// entry imports as ESM, and the .d.ts files publish no internals (see below). `prepare` runs this,
// so `npm pack`, `npm publish` and an install from git never produce a package without a working dist/.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
const problems = [];

function targets(value, conditions) {
  if (typeof value === "string") return [{ conditions, file: value }];
  return Object.entries(value).flatMap(([c, v]) => targets(v, [...conditions, c]));
}

const entries = [];
for (const [subpath, value] of Object.entries(pkg.exports)) {
  for (const { conditions, file } of targets(value, [])) {
    if (!existsSync(path.join(root, file)))
      problems.push(`exports["${subpath}"] ${conditions.join(".")}: ${file} is missing`);
    else if (file.endsWith(".js") && !conditions.includes("browser")) entries.push(file);
  }
}
for (const [name, file] of Object.entries(pkg.bin ?? {}))
  if (!existsSync(path.join(root, file))) problems.push(`bin ${name}: ${file} is missing`);

for (const file of new Set(entries)) {
  try {
    await import(pathToFileURL(path.join(root, file)).href);
  } catch (e) {
    problems.push(`${file} does not import: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// The published types carry no internals. "Published" is every .d.ts a "types" entry reaches;
// in them: no `_`-prefixed member (internals are `@internal`, removed by `stripInternal`); no
// kernel-internal type (a kernel module may be imported only for names the package itself
// exports: the kernel declares a few public types, such as the errors and the once-wait
// protocol); and everything type-checks strict, without skipLibCheck (`stripInternal` must not
// leave a class whose `implements` lost a stripped member). Read with the TypeScript compiler.
const ts = (await import("typescript")).default;
const dist = path.join(root, "dist");
const kernelDir = path.join(dist, "core", "kernel") + path.sep;
const rel = (file) => path.relative(root, file);
const typeEntries = [];
for (const value of Object.values(pkg.exports))
  for (const { conditions, file } of targets(value, []))
    if (conditions.includes("types") && existsSync(path.join(root, file)))
      typeEntries.push(path.join(root, file));
const program = ts.createProgram(typeEntries, {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  types: ["node"],
});
const checker = program.getTypeChecker();
const publicNames = new Set();
for (const file of typeEntries) {
  const mod = checker.getSymbolAtLocation(program.getSourceFile(file));
  if (mod !== undefined) for (const sym of checker.getExportsOfModule(mod)) publicNames.add(sym.name);
}
const where = (sf, node) =>
  `${rel(sf.fileName)}:${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}`;
/** Relative module references of `sf`: [target .d.ts, names taken from it (null: all, re-exported)]. */
const references = (sf) => {
  const out = [];
  const heritage = new Set();
  const add = (spec, names) => {
    if (spec.startsWith("."))
      out.push([path.resolve(path.dirname(sf.fileName), spec.replace(/\.js$/, ".d.ts")), names]);
  };
  const visit = (node) => {
    if (ts.isHeritageClause(node))
      for (const t of node.types) if (ts.isIdentifier(t.expression)) heritage.add(t.expression.text);
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      const b = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : node.exportClause;
      const names =
        b !== undefined && "elements" in b
          ? b.elements.map((el) => [(el.propertyName ?? el.name).text, el])
          : ts.isExportDeclaration(node) && b === undefined
            ? null
            : [["*", node]];
      add(node.moduleSpecifier.text, names);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      const q = node.qualifier;
      add(node.argument.literal.text, [
        [q === undefined ? "*" : ts.isIdentifier(q) ? q.text : q.right.text, node],
      ]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { out, heritage };
};
// walk what the "types" entries reach; a kernel module may be taken from only for names the
// package exports, classes extended or implemented there (public class hierarchy), or re-exported whole
const published = new Set(typeEntries);
const todo = [...typeEntries];
while (todo.length > 0) {
  const file = todo.pop();
  const sf = program.getSourceFile(file);
  if (sf === undefined) continue;
  const { out, heritage } = references(sf);
  for (const [target, names] of out) {
    if (target.startsWith(kernelDir) && names !== null)
      for (const [n, node] of names)
        if (!publicNames.has(n) && !heritage.has(n))
          problems.push(
            `${where(sf, node)} publishes the kernel-internal ${n} (mark what uses it @internal)`,
          );
    if (!published.has(target) && existsSync(target)) {
      published.add(target);
      todo.push(target);
    }
  }
}
for (const file of published) {
  const sf = program.getSourceFile(file);
  if (sf === undefined) continue;
  const visit = (node) => {
    const isMember =
      ts.isClassElement(node) ||
      ts.isTypeElement(node) ||
      (ts.isParameter(node) && ts.isParameterPropertyDeclaration(node, node.parent));
    const name = node.name;
    if (
      isMember &&
      name !== undefined &&
      (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) &&
      name.text.startsWith("_")
    )
      problems.push(`${where(sf, node)} publishes the internal member ${name.text} (mark it @internal)`);
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
for (const d of ts.getPreEmitDiagnostics(program)) {
  const at =
    d.file !== undefined && d.start !== undefined
      ? `${rel(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} `
      : "";
  problems.push(`${at}does not type-check: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
}

if (problems.length > 0) {
  console.error(`check-dist: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-dist: ${Object.keys(pkg.exports).length} export paths resolve, ${new Set(entries).size} entries import, the ${published.size} published .d.ts files type-check and carry no internal member or kernel-internal type`,
);
