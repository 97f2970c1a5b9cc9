/**
 * Module keys: the module part of remote ids (`src/math:add:0`). Both peers running the same
 * build compute the same key for the same source file, whatever their working directory.
 *
 * @module
 */
import { existsSync } from "node:fs";
import path from "node:path";

const rootCache = new Map<string, string | undefined>();

/** The nearest directory at or above `dir` that holds a `package.json`, or `undefined`. */
export function findPackageRoot(dir: string): string | undefined {
  const start = path.resolve(dir);
  if (rootCache.has(start)) return rootCache.get(start);
  let found: string | undefined;
  for (let d = start; ; ) {
    if (existsSync(path.join(d, "package.json"))) {
      found = d;
      break;
    }
    const parent = path.dirname(d);
    if (parent === d) break;
    d = parent;
  }
  rootCache.set(start, found);
  return found;
}

/** Strips a JavaScript/TypeScript extension: `src/math.ts` → `src/math`. */
export function stripExtension(file: string): string {
  return file.replace(/\.(d\.)?[cm]?[jt]sx?$/i, "");
}

/**
 * The module key of `fileName`: its path relative to `root` (default: the nearest directory with a
 * `package.json`), with `/` separators and without extension. A Vite id's query is ignored. A
 * file outside any package keys by its base name.
 */
export function moduleKeyFor(fileName: string, root?: string): string {
  const clean = fileName.replace(/[?#].*$/, "");
  const abs = path.resolve(clean);
  const base = root !== undefined ? path.resolve(root) : findPackageRoot(path.dirname(abs));
  const rel = base !== undefined ? path.relative(base, abs) : path.basename(abs);
  return stripExtension(rel.split(path.sep).join("/"));
}
