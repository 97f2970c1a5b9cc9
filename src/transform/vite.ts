/**
 * `spindel/vite`: the spinRemote compiler as a Vite (and Vitest) plugin.
 *
 * ```ts
 * // vite.config.ts / vitest.config.ts
 * import spindel from "spindel/vite";
 * export default defineConfig({ plugins: [spindel()] });
 * ```
 *
 * It runs with `enforce: "pre"`, before Vite strips TypeScript, and per file: the same analysis as
 * the ts-patch transformer and the CLI, the same rewrite (with a source map). Errors fail the
 * module through `this.error` (the test file fails under Vitest, the build fails under Vite),
 * warnings go through `this.warn`; both carry `file:line:column`.
 *
 * @module
 */
import type { Plugin, Rollup } from "vite";
import { mightUseSpindel, needsTypeScript, type SpindelTransformOptions, transformSource } from "./api.js";
import { type Diagnostic, formatDiagnostic } from "./diagnostics.js";
import { hasTypeScriptFrontend, loadTypeScriptFrontend } from "./frontends.js";

type TransformPluginContext = Rollup.TransformPluginContext;
type TransformResult = Rollup.TransformResult;

export { TypeScriptMissingError } from "./frontends.js";

/** Options of the Vite plugin. */
export interface SpindelViteOptions extends SpindelTransformOptions {
  /** files to transform (matched against the id without query). Default: `.js .mjs .cjs .jsx .ts .mts .cts .tsx` */
  readonly include?: RegExp;
  /** files to skip. Default: anything under `node_modules` */
  readonly exclude?: RegExp;
  /** report warnings through `this.warn` (default `true`) */
  readonly warnings?: boolean;
  /** called with every file's diagnostics (also when empty), before errors are raised */
  readonly onDiagnostics?: (file: string, diagnostics: readonly Diagnostic[]) => void;
}

const DEFAULT_INCLUDE = /\.[cm]?[jt]sx?$/;
const DEFAULT_EXCLUDE = /[\\/]node_modules[\\/]/;

/** The offending line with a caret under the diagnostic's column (shown by Vite under the message). */
function codeFrame(code: string, d: Diagnostic): string {
  const text = code.split(/\r\n|\r|\n/)[d.line - 1] ?? "";
  const gutter = `${d.line} | `;
  return `${gutter}${text}\n${" ".repeat(gutter.length - 2)}| ${" ".repeat(d.column - 1)}${"^".repeat(Math.max(1, Math.min(d.end - d.start, text.length - d.column + 1)))}`;
}

/** Creates the plugin. */
export function spindelPlugin(options: SpindelViteOptions = {}): Plugin {
  const include = options.include ?? DEFAULT_INCLUDE;
  const exclude = options.exclude ?? DEFAULT_EXCLUDE;
  return {
    name: "spindel",
    enforce: "pre",
    transform(code, id) {
      const file = id.replace(/[?#].*$/, "");
      if (file.startsWith("\0") || !include.test(file) || exclude.test(file)) return null;
      if (!mightUseSpindel(code, options.importSources)) return null;
      // TypeScript is an optional peer: loaded the first time a file needs its parser
      if (needsTypeScript(file) && !hasTypeScriptFrontend())
        return loadTypeScriptFrontend(file).then(() => compile(this, code, file));
      return compile(this, code, file);
    },
  };

  function compile(ctx: TransformPluginContext, code: string, file: string): TransformResult {
    const result = transformSource(file, code, options);
    const diagnostics = result.diagnostics;
    options.onDiagnostics?.(file, diagnostics);
    if (options.warnings !== false) {
      for (const d of diagnostics) {
        if (d.severity !== "warning") continue;
        ctx.warn({
          message: formatDiagnostic(d),
          id: file,
          loc: { file, line: d.line, column: d.column - 1 },
          pluginCode: d.code,
          meta: { diagnostic: d },
        });
      }
    }
    const errors = diagnostics.filter((d) => d.severity === "error");
    const first = errors[0];
    if (first) {
      ctx.error({
        message: errors.map((d) => formatDiagnostic(d)).join("\n"),
        id: file,
        loc: { file, line: first.line, column: first.column - 1 },
        frame: codeFrame(code, first),
        pluginCode: first.code,
        meta: { diagnostics: errors },
      });
    }
    if (!result.changed) return null;
    return { code: result.code, map: result.map ?? null };
  }
}

export default spindelPlugin;
