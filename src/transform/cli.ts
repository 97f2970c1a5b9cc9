/**
 * The `spindel` command line: `spindel check [paths…]` reports the spinRemote diagnostics
 * without building anything. JavaScript (`.js`/`.mjs`/`.cjs`) is read by acorn, everything else by
 * TypeScript's parser; the analysis is the one the ts-patch transformer and the Vite plugin run.
 *
 * ```
 * npx spindel check src test          # files and directories
 * npx spindel check -p tsconfig.json  # every file of a TypeScript project
 * ```
 *
 * Exit status: 0 without errors, 1 with errors (or warnings under `--warnings-as-errors`), 2 on
 * a usage error or an unreadable file.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import {
  analyzeSource,
  mightUseSpindel,
  type ParserChoice,
  parseModule,
  type SpindelTransformOptions,
} from "./api.js";
import "./ts-frontend.js"; // the TypeScript parser, for .ts files
import { compareDiagnostics, type Diagnostic, formatDiagnostic, LineMap } from "./diagnostics.js";

/** Where the CLI writes. */
export interface CliIo {
  /** standard output */
  readonly out: (line: string) => void;
  /** standard error */
  readonly err: (line: string) => void;
  /** working directory paths are resolved against */
  readonly cwd: string;
}

/** Thrown for a bad command line (exit status 2). */
export class CliUsageError extends Error {
  /** stable code of this error class */
  readonly code = "ERR_SPINDEL_CLI_USAGE" as const;

  /** whether the usage text helps (not for a missing file: one line says it all) */
  readonly showUsage: boolean;

  /** @param message what is wrong */
  constructor(message: string, showUsage = true) {
    super(message);
    this.name = "CliUsageError";
    this.showUsage = showUsage;
  }
}

/** The version of the installed spindel package (its package.json, two levels above this module). */
export function spindelVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

const USAGE = `Usage: spindel check [paths…] [options]
       spindel --version

Reports spinRemote diagnostics (the checks the spindel/transform and spindel/vite compilers run)
without building. Paths may be files or directories (searched for .ts .tsx .mts .cts .js .mjs .cjs
.jsx, skipping node_modules and dot-directories). Without paths, uses ./tsconfig.json.

Options:
  -p, --project <tsconfig>   check every file of a TypeScript project
  --json                     print the diagnostics as JSON
  --import-source <spec>     module specifier that provides spinRemote/remoteFn/spin
                             (repeatable; "/re/" for a pattern; default: spindel, spindel/…)
  --root <dir>               directory module keys are relative to (default: nearest package.json)
  --parser <auto|typescript|acorn>  force a parser (default auto: acorn for .js/.mjs/.cjs)
  --warnings-as-errors       exit 1 on warnings too
  -q, --quiet                print errors only
  -h, --help                 show this help`;

interface CheckArgs {
  paths: string[];
  project: string | undefined;
  json: boolean;
  importSources: string[];
  root: string | undefined;
  parser: ParserChoice;
  warningsAsErrors: boolean;
  quiet: boolean;
}

function parseArgs(argv: readonly string[]): CheckArgs {
  const args: CheckArgs = {
    paths: [],
    project: undefined,
    json: false,
    importSources: [],
    root: undefined,
    parser: "auto",
    warningsAsErrors: false,
    quiet: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new CliUsageError(`${a} needs a value`);
      return v;
    };
    if (a === "-p" || a === "--project") args.project = value();
    else if (a === "--json") args.json = true;
    else if (a === "--import-source") args.importSources.push(value());
    else if (a === "--root") args.root = value();
    else if (a === "--parser") {
      const p = value();
      if (p !== "auto" && p !== "typescript" && p !== "acorn")
        throw new CliUsageError(`unknown parser '${p}'`);
      args.parser = p;
    } else if (a === "--warnings-as-errors") args.warningsAsErrors = true;
    else if (a === "-q" || a === "--quiet") args.quiet = true;
    else if (a.startsWith("-")) throw new CliUsageError(`unknown option '${a}'`);
    else args.paths.push(a);
  }
  return args;
}

const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;

function collectFiles(entry: string, out: string[]): void {
  const st = statSync(entry);
  if (st.isFile()) {
    out.push(entry);
    return;
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(entry).sort()) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const full = path.join(entry, name);
    const s = statSync(full);
    if (s.isDirectory()) collectFiles(full, out);
    else if (SOURCE_FILE.test(name) && !/\.d\.[cm]?ts$/.test(name)) out.push(full);
  }
}

function projectFiles(project: string): string[] {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new CliUsageError(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(project, {}, host);
  if (!parsed) throw new CliUsageError(`cannot read ${project}`);
  return parsed.fileNames.filter((f) => !/\.d\.[cm]?ts$/.test(f));
}

/**
 * Checks files and returns their diagnostics (parse errors as `SPINDEL000`). Files that import
 * nothing from a recognised source are skipped, as the compilers skip them.
 */
export function checkFiles(
  files: readonly string[],
  options: SpindelTransformOptions & { readonly parser?: ParserChoice } = {},
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (!mightUseSpindel(text, options.importSources)) continue;
    const model = parseModule(file, text, options.parser);
    if (model.parseErrors.length > 0) {
      const lines = new LineMap(text);
      for (const e of model.parseErrors) {
        const { line, column } = lines.position(e.start);
        out.push({
          code: "SPINDEL000",
          severity: "error",
          file,
          start: e.start,
          end: e.start,
          line,
          column,
          message: `cannot parse the file: ${e.message} Fix: correct the syntax error.`,
          names: [],
          declared: [],
          fix: "correct the syntax error.",
        });
      }
      if (model.parser === "acorn") continue;
    }
    out.push(...analyzeSource(file, text, options).diagnostics);
  }
  return out;
}

/** Runs the CLI with `argv` (without `node` and the script); returns the exit status. */
export function main(argv: readonly string[], io: CliIo = defaultIo()): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === "-h" || command === "--help" || command === "help") {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v" || command === "version") {
    io.out(spindelVersion());
    return 0;
  }
  if (command !== "check") {
    io.err(`spindel: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  let args: CheckArgs;
  let files: string[];
  if (rest.includes("-h") || rest.includes("--help")) {
    io.out(USAGE);
    return 0;
  }
  try {
    args = parseArgs(rest);
    files = [];
    const project = args.project ?? (args.paths.length === 0 ? "tsconfig.json" : undefined);
    if (project !== undefined) {
      const p = path.resolve(io.cwd, project);
      if (!existsSync(p))
        throw new CliUsageError(
          args.project === undefined ? `no paths given and ${project} not found` : `no such file: ${project}`,
          args.project === undefined,
        );
      files.push(...projectFiles(p));
    }
    for (const p of args.paths) {
      const abs = path.resolve(io.cwd, p);
      if (!existsSync(abs)) throw new CliUsageError(`no such file or directory: ${p}`, false);
      collectFiles(abs, files);
    }
  } catch (e) {
    if (e instanceof CliUsageError) {
      io.err(
        e.showUsage
          ? `spindel: ${e.message}\n\n${USAGE}`
          : `spindel: ${e.message} (spindel --help for usage)`,
      );
      return 2;
    }
    throw e;
  }

  let diagnostics: Diagnostic[];
  try {
    diagnostics = checkFiles([...new Set(files)], {
      ...(args.importSources.length > 0 ? { importSources: args.importSources } : {}),
      ...(args.root !== undefined ? { root: path.resolve(io.cwd, args.root) } : {}),
      parser: args.parser,
    });
  } catch (e) {
    io.err(`spindel: ${(e as Error).message}`);
    return 2;
  }
  diagnostics.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : compareDiagnostics(a, b)));
  const shown = args.quiet ? diagnostics.filter((d) => d.severity === "error") : diagnostics;
  const display = (f: string): string => path.relative(io.cwd, f) || f;
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (args.json) {
    io.out(
      JSON.stringify(
        shown.map((d) => ({ ...d, file: display(d.file) })),
        null,
        2,
      ),
    );
  } else {
    for (const d of shown) io.out(formatDiagnostic(d, display(d.file)));
    io.out(
      `spindel check: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"} in ${files.length} file${files.length === 1 ? "" : "s"}`,
    );
  }
  return errors > 0 || (args.warningsAsErrors && warnings > 0) ? 1 : 0;
}

function defaultIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    cwd: process.cwd(),
  };
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(path.resolve(invoked)).href) {
  process.exitCode = main(process.argv.slice(2));
}
