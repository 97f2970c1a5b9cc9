/**
 * `spindel/transform`: the spinRemote compiler.
 *
 * The default export is a ts-patch 3.x program transformer (`(program, config, extras) =>
 * TransformerFactory`). Enable it in `tsconfig.json` and build with `tspc` (or after `ts-patch
 * install`, with `tsc`):
 *
 * ```jsonc
 * { "compilerOptions": { "plugins": [{ "transform": "spindel/transform" }] } }
 * ```
 *
 * Transformers only run while emitting: `tspc --noEmit` does not run them. For a check without
 * output use the CLI, `npx spindel check -p tsconfig.json`, or {@link checkProgram}.
 *
 * The named exports are the analysis itself, shared with `spindel/vite` and the CLI.
 *
 * @module
 */
import ts from "typescript";
import { type AnalysisResult, analyzeModule } from "./analyze.js";
import { normalizeImportSources, type SpindelTransformOptions } from "./api.js";
import { type Diagnostic, RemoteTransformError } from "./diagnostics.js";
import { moduleKeyFor } from "./module-key.js";
import { DEFAULT_RUNTIME_MODULE } from "./rewrite.js";
import { modelFromSourceFile } from "./ts-frontend.js";
import { rewriteSourceFile } from "./ts-rewrite.js";

export type { AnalysisResult, AnalyzeOptions, RemoteSite, Span, SpinSite } from "./analyze.js";
export { analyzeModule, bodyHash, DEFAULT_IMPORT_SOURCES, normalizeBodyText } from "./analyze.js";
export type { ParserChoice, SpindelTransformOptions, TransformSourceResult } from "./api.js";
export { analyzeSource, mightUseSpindel, needsTypeScript, parseModule, transformSource } from "./api.js";
export type { Diagnostic, DiagnosticCode, DiagnosticSeverity } from "./diagnostics.js";
export {
  compareDiagnostics,
  DIAGNOSTIC_CODES,
  formatDiagnostic,
  hasErrors,
  LineMap,
  RemoteTransformError,
} from "./diagnostics.js";
export type { FrontendParse } from "./frontends.js";
export { loadTypeScriptFrontend, TypeScriptMissingError } from "./frontends.js";
export type { ModuleModel } from "./model.js";
export { findPackageRoot, moduleKeyFor } from "./module-key.js";
export { DEFAULT_RUNTIME_MODULE } from "./rewrite.js";

/** Numeric TypeScript diagnostic code of a spindel code: `SPINDEL001` → `99001` (tsc prints `TS99001`). */
export function tsDiagnosticCode(code: Diagnostic["code"]): number {
  return 99000 + Number(code.slice("SPINDEL".length));
}

/** Converts a diagnostic to a TypeScript diagnostic on `file` (message prefixed by the spindel code). */
export function toTsDiagnostic(d: Diagnostic, file: ts.SourceFile): ts.Diagnostic {
  return {
    file,
    start: d.start,
    length: d.end - d.start,
    messageText: `${d.code}: ${d.message}`,
    category: d.severity === "error" ? ts.DiagnosticCategory.Error : ts.DiagnosticCategory.Warning,
    code: tsDiagnosticCode(d.code),
    source: "spindel",
  };
}

/** Analyses one program source file (skipping declaration files and files without a recognised import). */
export function analyzeSourceFile(
  sf: ts.SourceFile,
  options: SpindelTransformOptions = {},
): AnalysisResult | undefined {
  if (sf.isDeclarationFile) return undefined;
  const importSources = normalizeImportSources(options.importSources);
  const model = modelFromSourceFile(sf);
  return analyzeModule(model, {
    moduleKey: moduleKeyFor(sf.fileName, options.root),
    ...(importSources ? { importSources } : {}),
    ...(options.nestedSpinDeps === false ? { nestedSpinDeps: false } : {}),
  });
}

/**
 * A `before` transformer for the raw compiler API (`program.emit(…, { before: [t] })`): analyses
 * each file, passes every diagnostic to `report`, and rewrites the calls without errors.
 */
export function createSpindelTransformer(
  options: SpindelTransformOptions,
  report: (diagnostic: ts.Diagnostic, spindel: Diagnostic) => void,
): ts.TransformerFactory<ts.SourceFile> {
  const runtimeModule = options.runtimeModule ?? DEFAULT_RUNTIME_MODULE;
  return (context) => (sf) => {
    const result = analyzeSourceFile(sf, options);
    if (!result) return sf;
    for (const d of result.diagnostics) report(toTsDiagnostic(d, sf), d);
    return rewriteSourceFile(sf, result, context, runtimeModule);
  };
}

/** Check-only: the diagnostics of every non-declaration source file of `program`, without emitting. */
export function checkProgram(program: ts.Program, options: SpindelTransformOptions = {}): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const sf of program.getSourceFiles()) {
    if (program.isSourceFileFromExternalLibrary(sf)) continue;
    const result = analyzeSourceFile(sf, options);
    if (result) out.push(...result.diagnostics);
  }
  return out;
}

/** The `extras` ts-patch passes to a program transformer (only what this plugin uses). */
export interface TsPatchExtras {
  /** adds a diagnostic to the emit result (tspc prints it and exits non-zero on errors) */
  addDiagnostic(diagnostic: ts.Diagnostic): number;
}

/** The plugin entry's own options, as written in `tsconfig.json` next to `"transform"`. */
export interface TsPatchPluginConfig {
  /** the module ts-patch loads (`"spindel/transform"`) */
  readonly transform?: string;
  /** see {@link SpindelTransformOptions.importSources} (strings; `"/re/"` for a pattern) */
  readonly importSources?: readonly string[];
  /** see {@link SpindelTransformOptions.runtimeModule} */
  readonly runtimeModule?: string;
  /** see {@link SpindelTransformOptions.root} */
  readonly root?: string;
  /** see {@link SpindelTransformOptions.nestedSpinDeps} */
  readonly nestedSpinDeps?: boolean;
}

/**
 * The ts-patch program transformer (default export). ts-patch calls it once per program with the
 * plugin entry from `tsconfig.json`; diagnostics go through `extras.addDiagnostic`.
 */
export default function spindelTransform(
  _program: ts.Program,
  config: TsPatchPluginConfig = {},
  extras?: TsPatchExtras,
): ts.TransformerFactory<ts.SourceFile> {
  const options: SpindelTransformOptions = {
    ...(config.importSources ? { importSources: config.importSources } : {}),
    ...(config.runtimeModule ? { runtimeModule: config.runtimeModule } : {}),
    ...(config.root ? { root: config.root } : {}),
    ...(config.nestedSpinDeps === false ? { nestedSpinDeps: false } : {}),
  };
  return createSpindelTransformer(options, (d, spindel) => {
    if (extras) extras.addDiagnostic(d);
    else if (spindel.severity === "error") throw new RemoteTransformError([spindel]);
  });
}
