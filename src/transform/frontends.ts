/**
 * Which parser front end reads a file, without importing TypeScript eagerly: `typescript` is an
 * optional peer dependency, and a Vite project of plain JavaScript must load the plugin without it.
 * The TypeScript front end registers itself here when its module is evaluated; the Vite plugin loads
 * it on demand ({@link loadTypeScriptFrontend}) the first time a file needs it.
 *
 * @module
 */
import type { ModuleModel } from "./model.js";

/** Parses one file into the analysis model. */
export type FrontendParse = (fileName: string, text: string) => ModuleModel;

/**
 * A TypeScript (or TSX/JSX) file reached the compiler and the `typescript` package is not installed.
 * Install it next to spindel (`npm install -D typescript`), or keep such files out of `include`.
 */
export class TypeScriptMissingError extends Error {
  /** Stable code. */
  readonly code = "ERR_TYPESCRIPT_MISSING";
  /** The file that needed TypeScript's parser. */
  readonly file: string | undefined;
  constructor(file?: string, options?: { cause?: unknown }) {
    super(
      `spindel: ${file ? `'${file}' needs` : "this needs"} TypeScript's parser, but the 'typescript' package is not installed. ` +
        "Fix: npm install -D typescript (any 5.x), or let the compiler see only .js/.mjs/.cjs files.",
      options,
    );
    this.name = "TypeScriptMissingError";
    this.file = file;
  }
}

let parseTs: FrontendParse | undefined;

/** @internal called by the TypeScript front end's module when it is evaluated */
export function registerTypeScriptFrontend(parse: FrontendParse): void {
  parseTs = parse;
}

function isMissingTypeScript(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return (
    err !== null &&
    typeof err === "object" &&
    (err.code === "ERR_MODULE_NOT_FOUND" || err.code === "MODULE_NOT_FOUND") &&
    typeof err.message === "string" &&
    /['"]typescript['"]/.test(err.message)
  );
}

/**
 * Loads the TypeScript front end (and with it `typescript`) if it is not loaded yet. Rejects with
 * {@link TypeScriptMissingError} when `typescript` is not installed.
 */
export async function loadTypeScriptFrontend(file?: string): Promise<void> {
  if (parseTs) return;
  try {
    await import("./ts-frontend.js");
  } catch (e) {
    if (isMissingTypeScript(e)) throw new TypeScriptMissingError(file, { cause: e });
    throw e;
  }
}

/** Whether the TypeScript front end is loaded. */
export function hasTypeScriptFrontend(): boolean {
  return parseTs !== undefined;
}

/** The TypeScript front end; throws {@link TypeScriptMissingError} when it was never loaded. */
export function typeScriptFrontend(file?: string): FrontendParse {
  if (!parseTs) throw new TypeScriptMissingError(file);
  return parseTs;
}
