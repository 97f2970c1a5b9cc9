/**
 * The programmatic API shared by the Vite plugin and the CLI: parse a file with the right parser,
 * analyse it, and (optionally) rewrite it.
 *
 * @module
 */
import type { SourceMap } from "magic-string";
import { type AnalysisResult, analyzeModule, DEFAULT_IMPORT_SOURCES } from "./analyze.js";
import { type Diagnostic, hasErrors, RemoteTransformError } from "./diagnostics.js";
import { parseWithAcorn } from "./estree-frontend.js";
import { typeScriptFrontend } from "./frontends.js";
import type { ModuleModel } from "./model.js";
import { moduleKeyFor } from "./module-key.js";
import { DEFAULT_RUNTIME_MODULE, rewriteText } from "./rewrite.js";

/** Options shared by every entry point (the ts-patch plugin entry, the Vite plugin, the CLI). */
export interface SpindelTransformOptions {
  /**
   * module specifiers whose `spinRemote`, `remoteFn` and `spin` are recognised: exact strings or
   * regular expressions (in a tsconfig plugin entry, strings only; a string starting and ending
   * with `/` is read as a pattern). Default: `spindel` and `spindel/…`.
   */
  readonly importSources?: readonly (string | RegExp)[];
  /** module specifier the generated code imports `registerRemote`/`invokeRemote` from. Default `spindel/distributed`. */
  readonly runtimeModule?: string;
  /** directory module keys are relative to. Default: the nearest directory with a `package.json`. */
  readonly root?: string;
  /**
   * inject the captured enclosing locals as `deps` (and a call-site `key`) into `spin(...)` calls
   * made inside another spin's body without `deps`. Default `true`. A single call opts out by
   * passing `deps` itself (`{ deps: undefined }` keeps the runtime's no-deps behaviour).
   */
  readonly nestedSpinDeps?: boolean;
}

/** Which parser reads a file. */
export type ParserChoice = "auto" | "typescript" | "acorn";

/** Whether `fileName` is read by acorn under `auto`: plain JavaScript (`.js`, `.mjs`, `.cjs`). */
export function isPlainJavaScript(fileName: string): boolean {
  return /\.[cm]?js$/i.test(fileName.replace(/[?#].*$/, ""));
}

/** Whether `fileName` needs TypeScript's parser under `parser`. */
export function needsTypeScript(fileName: string, parser: ParserChoice = "auto"): boolean {
  return parser === "typescript" || (parser === "auto" && !isPlainJavaScript(fileName));
}

/**
 * Parses a file into the analysis model: acorn for `.js`/`.mjs`/`.cjs`, TypeScript otherwise. The
 * TypeScript parser is available once `spindel/transform` (or the CLI) is loaded, or after
 * `await loadTypeScriptFrontend()`; otherwise this throws `TypeScriptMissingError`.
 */
export function parseModule(fileName: string, text: string, parser: ParserChoice = "auto"): ModuleModel {
  return needsTypeScript(fileName, parser)
    ? typeScriptFrontend(fileName)(fileName, text)
    : parseWithAcorn(fileName, text);
}

/** Reads `/re/flags` strings from JSON configs as regular expressions. */
export function normalizeImportSources(
  sources: readonly (string | RegExp)[] | undefined,
): readonly (string | RegExp)[] | undefined {
  if (sources === undefined) return undefined;
  return sources.map((s) => {
    if (typeof s !== "string") return s;
    const m = /^\/(.*)\/([a-z]*)$/.exec(s);
    return m ? new RegExp(m[1]!, m[2]) : s;
  });
}

/** Parses and analyses one file (no rewrite). */
export function analyzeSource(
  fileName: string,
  text: string,
  options: SpindelTransformOptions & { readonly parser?: ParserChoice } = {},
): AnalysisResult {
  const model = parseModule(fileName, text, options.parser);
  const importSources = normalizeImportSources(options.importSources);
  return analyzeModule(model, {
    moduleKey: moduleKeyFor(fileName, options.root),
    ...(importSources ? { importSources } : {}),
    ...(options.nestedSpinDeps === false ? { nestedSpinDeps: false } : {}),
  });
}

/** The result of {@link transformSource}. */
export interface TransformSourceResult {
  /** the rewritten code, or the input unchanged */
  readonly code: string;
  /** the source map of the rewrite (`undefined` when nothing changed) */
  readonly map: SourceMap | undefined;
  /** every diagnostic */
  readonly diagnostics: readonly Diagnostic[];
  /** whether the code was changed */
  readonly changed: boolean;
  /** the analysis (ids, hashes, injected deps) */
  readonly analysis: AnalysisResult;
}

/**
 * Analyses and rewrites one file. With `throwOnError`, errors throw a
 * {@link RemoteTransformError}; otherwise calls with errors are left as they are (they then throw
 * `TransformNotConfiguredError` when reached) and the diagnostics are returned.
 */
export function transformSource(
  fileName: string,
  text: string,
  options: SpindelTransformOptions & { readonly parser?: ParserChoice; readonly throwOnError?: boolean } = {},
): TransformSourceResult {
  const analysis = analyzeSource(fileName, text, options);
  if (options.throwOnError && hasErrors(analysis.diagnostics))
    throw new RemoteTransformError(analysis.diagnostics);
  const out = rewriteText(analysis, options.runtimeModule ?? DEFAULT_RUNTIME_MODULE);
  if (!out)
    return { code: text, map: undefined, diagnostics: analysis.diagnostics, changed: false, analysis };
  const map = out.magic.generateMap({
    source: fileName.replace(/[?#].*$/, ""),
    includeContent: true,
    hires: "boundary",
  });
  return { code: out.code, map, diagnostics: analysis.diagnostics, changed: true, analysis };
}

/**
 * A quick textual pre-check: whether the file imports from a recognised source at all. Files that
 * do not are skipped without parsing (most files of a project).
 */
export function mightUseSpindel(text: string, importSources?: readonly (string | RegExp)[]): boolean {
  const sources = normalizeImportSources(importSources) ?? DEFAULT_IMPORT_SOURCES;
  const re = /\bfrom\s*(["'])([^"'\n]+)\1|\bimport\s*(["'])([^"'\n]+)\3/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const spec = m[2] ?? m[4] ?? "";
    if (sources.some((p) => (typeof p === "string" ? p === spec : p.test(spec)))) return true;
  }
  return false;
}
