#!/usr/bin/env node
// After a build: every path in package.json "exports" (every condition) and "bin" exists, and every
// entry imports as ESM. `prepare` runs this, so `npm pack`, `npm publish` and an install from git
// never produce a package without a working dist/.
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

if (problems.length > 0) {
  console.error(`check-dist: ${problems.length} problem(s)\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(
  `check-dist: ${Object.keys(pkg.exports).length} export paths resolve, ${new Set(entries).size} entries import`,
);
