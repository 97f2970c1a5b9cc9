#!/usr/bin/env node
// After a build: every path in package.json "exports" (every condition) and "bin" exists, and every
// entry imports as ESM, and the .d.ts files publish no internals (see below). `prepare` runs this,
// so `npm pack`, `npm publish` and an install from git never produce a package without a working dist/.
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

// The published types carry no internals: no `_`-prefixed member in any .d.ts (internals are
// `@internal`, removed by `stripInternal`), and no type of the kernel (src/core/kernel/) reachable
// from a "types" entry. Read with the TypeScript parser, so a `_` parameter name does not count.
const ts = (await import("typescript")).default;
const dist = path.join(root, "dist");
const dtsFiles = [];
const walk = (dir) => {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) walk(p);
    else if (d.name.endsWith(".d.ts")) dtsFiles.push(p);
  }
};
if (existsSync(dist)) walk(dist);
const parsed = new Map();
const parse = (file) => {
  let sf = parsed.get(file);
  if (sf === undefined) {
    sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    parsed.set(file, sf);
  }
  return sf;
};
const rel = (file) => path.relative(root, file);
for (const file of dtsFiles) {
  const sf = parse(file);
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
    ) {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      problems.push(
        `${rel(file)}:${line + 1} publishes the internal member ${name.text} (mark it @internal)`,
      );
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}
// known: kernel types still reachable through files the kernel work owns; each entry names the file
// and the member to mark @internal there (remove the entry once it is done)
const KNOWN_KERNEL_LEAKS = new Map([["dist/core/signal.d.ts", "Cell.observers (src/core/signal.ts)"]]);
const kernelDir = path.join(dist, "core", "kernel") + path.sep;
const specifiers = (sf) => {
  const out = [];
  const visit = (node) => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      out.push(node.moduleSpecifier.text);
    else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    )
      out.push(node.argument.literal.text);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.filter((s) => s.startsWith("."));
};
const typeEntries = [];
for (const value of Object.values(pkg.exports))
  for (const { conditions, file } of targets(value, []))
    if (conditions.includes("types")) typeEntries.push(path.join(root, file));
const reached = new Map(); // file -> the file that imported it
const todo = typeEntries.filter((f) => existsSync(f));
for (const f of todo) reached.set(f, null);
while (todo.length > 0) {
  const file = todo.pop();
  for (const spec of specifiers(parse(file))) {
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, ".d.ts"));
    if (!existsSync(target) || reached.has(target)) continue;
    reached.set(target, file);
    if (target.startsWith(kernelDir)) {
      const from = rel(file);
      if (KNOWN_KERNEL_LEAKS.has(from))
        console.log(
          `check-dist: known: ${from} reaches ${rel(target)}: mark ${KNOWN_KERNEL_LEAKS.get(from)} @internal`,
        );
      else
        problems.push(
          `${from} publishes a kernel type from ${rel(target)} (mark the member using it @internal)`,
        );
      continue;
    }
    todo.push(target);
  }
}

// `stripInternal` must not leave a declaration that no longer type-checks (a class whose
// `implements` lost a stripped member): the published types compile strict, without skipLibCheck
const program = ts.createProgram([...reached.keys()], {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
  types: ["node"],
});
for (const d of ts.getPreEmitDiagnostics(program)) {
  const where =
    d.file !== undefined && d.start !== undefined
      ? `${rel(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1} `
      : "";
  problems.push(`${where}does not type-check: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
}

if (problems.length > 0) {
  console.error(`check-dist: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-dist: ${Object.keys(pkg.exports).length} export paths resolve, ${new Set(entries).size} entries import, ${dtsFiles.length} .d.ts files publish no internal member, ${reached.size} reachable from "types" publish no kernel type`,
);
