/**
 * Test helpers: the fixture corpus, its inline expectations, and drivers for the three entry
 * points (the ts-patch program transformer, the Vite plugin, the CLI) that bring every
 * diagnostic into one comparable shape.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import spindelTransform, {
  type Diagnostic,
  type DiagnosticCode,
  type SpindelTransformOptions,
} from "spindel/transform";
import { spindelPlugin } from "spindel/vite";
import ts from "typescript";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const FIXTURES = path.join(REPO, "test/transform/fixtures");

/** Every fixture file (absolute paths), sorted. */
export function fixtureFiles(): string[] {
  const out: string[] = [];
  for (const dir of ["good", "bad"]) {
    for (const name of readdirSync(path.join(FIXTURES, dir)).sort()) out.push(path.join(FIXTURES, dir, name));
  }
  return out;
}

/** A diagnostic reduced to what every entry point reports. */
export interface Reported {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
}

/** An expectation written in a fixture. */
export interface Expected {
  readonly line: number;
  readonly column: number;
  readonly code: DiagnosticCode;
  readonly severity: "error" | "warning";
  readonly name: string | undefined;
}

const DEFAULT_SEVERITY: Record<string, "error" | "warning"> = {
  SPINDEL010: "warning",
  SPINDEL011: "warning",
  SPINDEL012: "warning",
};

/**
 * Reads the expectations of a fixture. Two forms:
 * - a caret comment under the offending line: `//      ^ SPINDEL001 [error|warning] [name]`
 *   (the column of `^` is the expected column; the line is the nearest line above that is not
 *   itself an expectation);
 * - `// @expect SPINDEL004 12:3 [error|warning] [name]` anywhere.
 */
export function parseExpectations(text: string): Expected[] {
  const lines = text.split(/\r\n|\n/);
  const out: Expected[] = [];
  let target = 0;
  const caret = /^(\s*\/\/\s*)\^\s+(SPINDEL\d{3})(?:\s+(error|warning))?(?:\s+(\S+))?\s*$/;
  const explicit = /\/\/\s*@expect\s+(SPINDEL\d{3})\s+(\d+):(\d+)(?:\s+(error|warning))?(?:\s+(\S+))?/;
  lines.forEach((line, i) => {
    const c = caret.exec(line);
    if (c) {
      const code = c[2] as DiagnosticCode;
      out.push({
        line: target,
        column: c[1]!.length + 1,
        code,
        severity: (c[3] as "error" | "warning" | undefined) ?? DEFAULT_SEVERITY[code] ?? "error",
        name: c[4],
      });
      return;
    }
    const e = explicit.exec(line);
    if (e) {
      const code = e[1] as DiagnosticCode;
      out.push({
        line: Number(e[2]),
        column: Number(e[3]),
        code,
        severity: (e[4] as "error" | "warning" | undefined) ?? DEFAULT_SEVERITY[code] ?? "error",
        name: e[5],
      });
      return;
    }
    target = i + 1;
  });
  return out.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

const rel = (f: string): string => path.relative(REPO, f).split(path.sep).join("/");

/** Sorted, so that lists from different entry points compare equal. */
export function sortReported(list: Reported[]): Reported[] {
  return [...list].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.code.localeCompare(b.code) ||
      a.message.localeCompare(b.message),
  );
}

/** From the analysis' own diagnostics. */
export function fromDiagnostics(list: readonly Diagnostic[]): Reported[] {
  return list.map((d) => ({
    file: rel(d.file),
    line: d.line,
    column: d.column,
    code: d.code,
    severity: d.severity,
    message: d.message,
  }));
}

/**
 * The ts-patch route, driven programmatically the way ts-patch does it: the default export is
 * called with `(program, config, extras)` and its transformer runs in `program.emit`'s `before`.
 * Returns the diagnostics and the emitted JavaScript per source file.
 */
export function runTsPatch(
  files: readonly string[],
  config: Record<string, unknown> = {},
  compilerOptions: ts.CompilerOptions = {},
): { reported: Reported[]; output: Map<string, string>; raw: ts.Diagnostic[] } {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    jsx: ts.JsxEmit.Preserve,
    allowJs: true,
    noResolve: true,
    noLib: true,
    types: [],
    outDir: path.join(REPO, ".never-written"),
    ...compilerOptions,
  });
  const raw: ts.Diagnostic[] = [];
  const extras = { addDiagnostic: (d: ts.Diagnostic) => raw.push(d) };
  const factory = spindelTransform(program, config, extras);
  const output = new Map<string, string>();
  program.emit(
    undefined,
    (name, text, _bom, _onError, sources) => {
      const src = sources?.[0]?.fileName;
      if (src && /\.[cm]?jsx?$/.test(name)) output.set(path.resolve(src), text);
    },
    undefined,
    false,
    { before: [factory] },
  );
  const reported = raw.map((d): Reported => {
    const sf = d.file!;
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start!);
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    const m = /^(SPINDEL\d{3}): ([\s\S]*)$/.exec(text)!;
    if (`SPINDEL${String(d.code - 99000).padStart(3, "0")}` !== m[1])
      throw new Error(`code mismatch in ${text}`);
    return {
      file: rel(sf.fileName),
      line: line + 1,
      column: character + 1,
      code: m[1]!,
      severity: d.category === ts.DiagnosticCategory.Error ? "error" : "warning",
      message: m[2]!,
    };
  });
  return { reported, output, raw };
}

/** A log the Vite plugin passed to `this.warn` / `this.error`. */
export interface PluginLog {
  readonly message: string;
  readonly id?: string;
  readonly loc?: { readonly file?: string; readonly line: number; readonly column: number };
  readonly pluginCode?: unknown;
}

const FORMATTED = /^(.+):(\d+):(\d+) - (error|warning) (SPINDEL\d{3}): (.*)$/;

/** Parses lines in the `file:line:col - severity CODE: message` format. */
export function parseFormatted(text: string): Reported[] {
  return text
    .split("\n")
    .filter((l) => FORMATTED.test(l))
    .map((l) => {
      const m = FORMATTED.exec(l)!;
      return {
        file: rel(path.resolve(REPO, m[1]!)),
        line: Number(m[2]),
        column: Number(m[3]),
        severity: m[4] as "error" | "warning",
        code: m[5]!,
        message: m[6]!,
      };
    });
}

/**
 * The Vite route: calls the plugin's `transform` hook with a context that records `warn` and
 * `error` (which throws, as Vite's does).
 */
export function runVite(
  file: string,
  code: string,
  options: Parameters<typeof spindelPlugin>[0] = {},
): { reported: Reported[]; warnings: PluginLog[]; error: PluginLog | undefined; result: unknown } {
  const plugin = spindelPlugin(options);
  const warnings: PluginLog[] = [];
  let error: PluginLog | undefined;
  const ctx = {
    warn(log: PluginLog) {
      warnings.push(log);
    },
    error(log: PluginLog): never {
      error = log;
      throw Object.assign(new Error(log.message), { plugin: "spindel" });
    },
  };
  const hook = plugin.transform as unknown as (this: typeof ctx, code: string, id: string) => unknown;
  let result: unknown;
  try {
    result = hook.call(ctx, code, file);
  } catch (e) {
    if (!error) throw e;
  }
  const reported = [
    ...warnings.flatMap((w) => parseFormatted(w.message)),
    ...(error ? parseFormatted(error.message) : []),
  ];
  return { reported, warnings, error, result };
}

const exec = promisify(execFile);

/** The CLI route: runs `node bin/spindel.mjs check --json …` in a child process. */
export async function runCli(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [path.join(REPO, "bin/spindel.mjs"), ...args], {
      cwd: REPO,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof err.code === "number" ? err.code : -1,
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? "",
    };
  }
}

/** Parses the CLI's `--json` output. */
export function fromCliJson(stdout: string): Reported[] {
  const list = JSON.parse(stdout) as Diagnostic[];
  return list.map((d) => ({
    file: rel(path.resolve(REPO, d.file)),
    line: d.line,
    column: d.column,
    code: d.code,
    severity: d.severity,
    message: d.message,
  }));
}

/** Reads a fixture. */
export function readFixture(file: string): string {
  return readFileSync(file, "utf8");
}

/** The transform options the fixture tests use. */
export const FIXTURE_OPTIONS: SpindelTransformOptions = {};
