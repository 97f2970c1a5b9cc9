/**
 * Diagnostics of the spinRemote analysis: stable codes, positions and formatting shared by the
 * ts-patch transformer, the Vite plugin and the CLI.
 *
 * @module
 */

/**
 * Stable diagnostic codes. See `docs/remote-functions.md` for an example and the fix of each.
 *
 * - `SPINDEL000` (error): the file could not be parsed (CLI only; the compilers report their own).
 * - `SPINDEL001` (error; warning under `spinRemote.unchecked`): the body uses a local of an enclosing
 *   function that is not in the declared list.
 * - `SPINDEL002` (error): the body uses `this`, `arguments`, `super`, `new.target`, `eval` or `with`.
 * - `SPINDEL003` (error): the declared list is not an array literal of distinct identifiers.
 * - `SPINDEL004` (error): `spinRemote` is not inside a `remoteFn(...)` function.
 * - `SPINDEL005` (error): the call does not have the shape `spinRemote(scope, [declared…], body)` with
 *   an inline, non-generator function body.
 * - `SPINDEL010` (warning): a declared name is never used by the body.
 * - `SPINDEL011` (warning): a declared name is a module-level binding, an import or a global.
 * - `SPINDEL012` (warning): the body reads a module-level `let`/`var`; each peer has its own copy.
 * - `SPINDEL013` (warning): in a spin body (`spin`, `$.spin`, `spinRemote`), `sig.value` of a signal
 *   after the body's first `await`: it reads the default context, not the body's, and is not tracked.
 * - `SPINDEL014` (warning): in a spin body, a bare `await child` of a spin (or of a remote call): it
 *   awaits the spin in the default context, not the body's, and records no dependency.
 */
export type DiagnosticCode =
  | "SPINDEL000"
  | "SPINDEL001"
  | "SPINDEL002"
  | "SPINDEL003"
  | "SPINDEL004"
  | "SPINDEL005"
  | "SPINDEL010"
  | "SPINDEL011"
  | "SPINDEL012"
  | "SPINDEL013"
  | "SPINDEL014";

/** Every code with its default severity and a one-line title (used by the docs and the CLI). */
export const DIAGNOSTIC_CODES: Readonly<
  Record<DiagnosticCode, { readonly severity: DiagnosticSeverity; readonly title: string }>
> = {
  SPINDEL000: { severity: "error", title: "the file could not be parsed" },
  SPINDEL001: { severity: "error", title: "undeclared capture of an enclosing local" },
  SPINDEL002: { severity: "error", title: "this/arguments/super/new.target/eval/with in a remote body" },
  SPINDEL003: { severity: "error", title: "declared list is not an array literal of distinct identifiers" },
  SPINDEL004: { severity: "error", title: "spinRemote outside remoteFn" },
  SPINDEL005: { severity: "error", title: "malformed spinRemote call" },
  SPINDEL010: { severity: "warning", title: "declared but unused" },
  SPINDEL011: { severity: "warning", title: "declared name is a module-level binding, import or global" },
  SPINDEL012: { severity: "warning", title: "remote body uses a module-level mutable binding" },
  SPINDEL013: { severity: "warning", title: "signal .value after the first await of a spin body" },
  SPINDEL014: { severity: "warning", title: "bare await of a spin inside a spin body" },
};

/** Whether a diagnostic fails the build. */
export type DiagnosticSeverity = "error" | "warning";

/** One finding of the analysis. */
export interface Diagnostic {
  /** the stable code */
  readonly code: DiagnosticCode;
  /** `error` fails the build; `warning` does not */
  readonly severity: DiagnosticSeverity;
  /** the file name as given to the analysis */
  readonly file: string;
  /** offset of the offending identifier or construct */
  readonly start: number;
  /** end offset of it */
  readonly end: number;
  /** 1-based line */
  readonly line: number;
  /** 1-based column, in UTF-16 code units */
  readonly column: number;
  /** the complete message, including the names, the declared list and the fix */
  readonly message: string;
  /**
   * the names the diagnostic is about: for `SPINDEL001` all missing names of the call (the one at
   * this position first); otherwise the offending name or construct
   */
  readonly names: readonly string[];
  /** the call's declared list, as written (identifiers only) */
  readonly declared: readonly string[];
  /** a suggested fix, also included at the end of {@link Diagnostic.message} */
  readonly fix: string;
}

/** Offsets of line starts, for offset → line/column. */
export class LineMap {
  readonly #starts: number[] = [0];

  /** @param text the source text */
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 /* \r */) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.#starts.push(i + 1);
      } else if (c === 10 || c === 0x2028 || c === 0x2029) {
        this.#starts.push(i + 1);
      }
    }
  }

  /** 1-based line and column of `offset`. */
  position(offset: number): { line: number; column: number } {
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }
}

/** `file:line:column - severity CODE: message`, the format every entry point prints. */
export function formatDiagnostic(d: Diagnostic, file: string = d.file): string {
  return `${file}:${d.line}:${d.column} - ${d.severity} ${d.code}: ${d.message}`;
}

/** Orders diagnostics by position, then code, then message (the order every entry point reports). */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    a.start - b.start ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

/** Whether any diagnostic is an error. */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * Thrown by the programmatic API ({@link ./api.ts transformCode} with `throwOnError`) when the
 * analysis reports errors. Carries every diagnostic.
 */
export class RemoteTransformError extends Error {
  /** stable code of this error class */
  readonly code = "ERR_SPINREMOTE_DIAGNOSTICS" as const;
  /** every diagnostic of the file, errors and warnings */
  readonly diagnostics: readonly Diagnostic[];

  /** @param diagnostics the diagnostics (at least one error) */
  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => formatDiagnostic(d)).join("\n"));
    this.name = "RemoteTransformError";
    this.diagnostics = diagnostics;
  }
}
