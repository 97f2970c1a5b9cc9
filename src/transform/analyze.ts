/**
 * The spinRemote analysis: one implementation, run by every entry point on a {@link ModuleModel}.
 *
 * For each `spinRemote(scope, [declared…], body)` it classifies every value-position identifier
 * of the body as declared, local to the body, module-level (or an import), global (bound nowhere
 * in the file), or a capture (a local of an enclosing function or block, which must be declared),
 * reports coded diagnostics, and plans the rewrite: the body is hoisted to module level under a
 * stable id. For each `spin(...)`/`$.spin(...)` created inside another spin's body without `deps`,
 * it plans the injection of the captured enclosing locals as `deps` and a call-site `key`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  compareDiagnostics,
  DIAGNOSTIC_CODES,
  type Diagnostic,
  type DiagnosticCode,
  type DiagnosticSeverity,
  LineMap,
} from "./diagnostics.js";
import {
  type ArgModel,
  type BindingModel,
  type CalleeModel,
  type CallModel,
  functionScopeOf,
  isWithin,
  type ModuleModel,
  type ReferenceModel,
  resolve,
  type ScopeModel,
} from "./model.js";

/** Import specifiers recognised by default: `spindel` and its subpaths. */
export const DEFAULT_IMPORT_SOURCES: readonly (string | RegExp)[] = [/^spindel(\/.*)?$/];

/** Options of {@link analyzeModule}. */
export interface AnalyzeOptions {
  /**
   * the module's key: its path relative to the package root, without extension (`src/math`);
   * the prefix of every remote id and injected spin key (see `moduleKeyFor`)
   */
  readonly moduleKey: string;
  /**
   * module specifiers whose `spinRemote`, `remoteFn` and `spin` exports are recognised (exact
   * strings or patterns). Default: {@link DEFAULT_IMPORT_SOURCES}.
   */
  readonly importSources?: readonly (string | RegExp)[];
  /** inject `deps`/`key` into nested spins (default `true`) */
  readonly nestedSpinDeps?: boolean;
}

/** A source range. */
export interface Span {
  /** start offset */
  readonly start: number;
  /** end offset */
  readonly end: number;
}

/** A `spinRemote` call that passed the analysis, with everything the rewrite needs. */
export interface RemoteSite {
  /** the stable id: `<moduleKey>:<remoteFn name>:<ordinal>` */
  readonly id: string;
  /** the remoteFn name part of the id */
  readonly fnName: string;
  /** the ordinal part of the id (pre-order among the calls with this name in the module) */
  readonly ordinal: number;
  /** hash of the declared names and the normalised body text (16 hex digits of sha256) */
  readonly hash: string;
  /** the declared names, in order: the hoisted factory's parameters */
  readonly params: readonly string[];
  /** whether the call was `spinRemote.unchecked(...)` */
  readonly unchecked: boolean;
  /** the whole call */
  readonly call: Span;
  /** the scope argument */
  readonly scope: Span;
  /** the declared array literal */
  readonly declared: Span;
  /** the body function */
  readonly body: Span;
}

/** A nested `spin(...)` whose options get `deps` (and maybe `key`) injected. */
export interface SpinSite {
  /** the whole call */
  readonly call: Span;
  /** the body argument (the function itself, without wrapping parentheses) */
  readonly body: Span;
  /** end of the body argument as written (after wrapping parentheses): where new options go */
  readonly bodyArgEnd: number;
  /** the options object literal, if the call has one */
  readonly options: (Span & { readonly lastPropertyEnd: number | undefined }) | undefined;
  /** the captured enclosing locals, in order of first use */
  readonly deps: readonly string[];
  /** the call-site key to inject, when the call is not in a loop, a callback or after an `await` */
  readonly key: string | undefined;
}

/** What the analysis found in one module. */
export interface AnalysisResult {
  /** the model analysed */
  readonly model: ModuleModel;
  /** every diagnostic, sorted by position */
  readonly diagnostics: readonly Diagnostic[];
  /** the spinRemote calls to rewrite (calls with errors are left out) */
  readonly remotes: readonly RemoteSite[];
  /** the nested spins to inject `deps`/`key` into */
  readonly spins: readonly SpinSite[];
}

type Role = "spinRemote" | "spinRemoteUnchecked" | "remoteFn" | "spin" | "scopeSpin";
type FunctionArg = Extract<ArgModel, { kind: "function" }>;

const RUNTIME_NAMES = new Set(["spinRemote", "remoteFn", "spin"]);

function sourceMatches(source: string, patterns: readonly (string | RegExp)[]): boolean {
  return patterns.some((p) => (typeof p === "string" ? p === source : p.test(source)));
}

/**
 * The text the body hash is computed from: line endings normalised, every line trimmed, blank
 * lines dropped — so re-indentation does not change the id's hash, any other edit does.
 */
export function normalizeBodyText(text: string): string {
  return text
    .split(/\r\n|\r|\n|\u2028|\u2029/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .join("\n");
}

/** The body hash: 16 hex digits of sha256 over the declared names and the normalised body text. */
export function bodyHash(params: readonly string[], bodyText: string): string {
  return createHash("sha256")
    .update(`${params.join(",")}\n${normalizeBodyText(bodyText)}`)
    .digest("hex")
    .slice(0, 16);
}

const list = (names: readonly string[]): string => `[${names.join(", ")}]`;

/** Runs the analysis on one module. */
export function analyzeModule(model: ModuleModel, options: AnalyzeOptions): AnalysisResult {
  const importSources = options.importSources ?? DEFAULT_IMPORT_SOURCES;
  const lines = new LineMap(model.text);
  const diagnostics: Diagnostic[] = [];
  const resolved = new Map<ReferenceModel, BindingModel | undefined>();
  const bindingOf = (r: ReferenceModel): BindingModel | undefined => {
    if (resolved.has(r)) return resolved.get(r);
    const b = resolve(r);
    resolved.set(r, b);
    return b;
  };

  const report = (
    code: DiagnosticCode,
    at: Span,
    message: string,
    fix: string,
    names: readonly string[],
    declared: readonly string[],
    severity: DiagnosticSeverity = DIAGNOSTIC_CODES[code].severity,
  ): void => {
    const { line, column } = lines.position(at.start);
    diagnostics.push({
      code,
      severity,
      file: model.fileName,
      start: at.start,
      end: at.end,
      line,
      column,
      message: `${message} Fix: ${fix}`,
      names,
      declared,
      fix,
    });
  };

  // --- which calls are ours -------------------------------------------------------------------
  const importedName = (callee: CalleeModel): string | undefined => {
    if (callee.kind === "identifier") {
      const b = bindingOf(callee.ref);
      if (b?.kind !== "import" || !b.importFrom || !sourceMatches(b.importFrom.source, importSources))
        return undefined;
      return b.importFrom.imported;
    }
    if (callee.kind === "member" && callee.object.kind === "identifier") {
      // namespace import: `import * as d from "spindel/distributed"; d.spinRemote(...)`
      if (importedName(callee.object) === "*") return callee.property;
    }
    return undefined;
  };

  const spinBodies = new Map<ScopeModel, FunctionArg>();
  const roleOf = (call: CallModel): Role | undefined => {
    const c = call.callee;
    if (c.kind === "member" && c.property === "unchecked" && importedName(c.object) === "spinRemote") {
      return "spinRemoteUnchecked";
    }
    const name = importedName(c);
    if (name !== undefined && RUNTIME_NAMES.has(name)) return name as Role;
    return undefined;
  };

  const roles = new Map<CallModel, Role>();
  for (const call of model.calls) {
    const role = roleOf(call);
    if (role === undefined) continue;
    roles.set(call, role);
    const bodyIndex = role === "spin" ? 0 : role === "spinRemote" || role === "spinRemoteUnchecked" ? 2 : -1;
    const body = bodyIndex >= 0 ? call.args[bodyIndex] : undefined;
    if (body?.kind === "function") spinBodies.set(body.scope, body);
  }
  // `$.spin(...)` where `$` is the first parameter of a spin body (calls are in source order, so
  // the body of an outer `$.spin` is known before the calls inside it)
  for (const call of model.calls) {
    const c = call.callee;
    if (roles.has(call) || c.kind !== "member" || c.property !== "spin" || c.object.kind !== "identifier")
      continue;
    const b = bindingOf(c.object.ref);
    if (b?.kind !== "param") continue;
    const owner = spinBodies.get(b.scope);
    if (!owner || owner.params[0] !== b.name) continue;
    roles.set(call, "scopeSpin");
    const body = call.args[0];
    if (body?.kind === "function") spinBodies.set(body.scope, body);
  }

  // --- remoteFn regions -----------------------------------------------------------------------
  interface Region {
    readonly fn: FunctionArg;
    readonly name: string;
  }
  const regions: Region[] = [];
  for (const [call, role] of roles) {
    if (role !== "remoteFn") continue;
    const fn = call.args[0];
    if (fn?.kind !== "function") continue;
    regions.push({ fn, name: fn.name ?? call.assignedName ?? "anonymous" });
  }
  const regionOf = (span: Span): Region | undefined => {
    let best: Region | undefined;
    for (const r of regions) {
      if (r.fn.start <= span.start && span.end <= r.fn.end && (!best || r.fn.start >= best.fn.start))
        best = r;
    }
    return best;
  };

  // references and specials by position, for range queries
  const refs = model.references;
  const refsIn = (span: Span): ReferenceModel[] => {
    let lo = 0;
    let hi = refs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (refs[mid]!.start < span.start) lo = mid + 1;
      else hi = mid;
    }
    const out: ReferenceModel[] = [];
    for (let i = lo; i < refs.length && refs[i]!.start < span.end; i++) out.push(refs[i]!);
    return out;
  };

  const moduleScope = model.moduleScope;
  const ordinals = new Map<string, number>();
  const remotes: RemoteSite[] = [];

  // --- spinRemote calls -----------------------------------------------------------------------
  for (const call of model.calls) {
    const role = roles.get(call);
    if (role !== "spinRemote" && role !== "spinRemoteUnchecked") continue;
    const unchecked = role === "spinRemoteUnchecked";
    const before = diagnostics.filter((d) => d.severity === "error").length;
    const callSpan: Span = { start: call.start, end: call.end };
    const [scopeArg, declaredArg, bodyArg] = call.args;

    const region = regionOf(callSpan);
    let id: { fnName: string; ordinal: number } | undefined;
    if (!region) {
      report(
        "SPINDEL004",
        callSpan,
        "spinRemote must be called inside a function written inline in remoteFn(...), which gives each remote body its stable id.",
        "wrap the enclosing function: export const f = remoteFn(function f(scope, …) { return spinRemote(scope, […], async ($) => …); });",
        ["spinRemote"],
        [],
      );
    } else {
      const ordinal = ordinals.get(region.name) ?? 0;
      ordinals.set(region.name, ordinal + 1);
      id = { fnName: region.name, ordinal };
    }

    // declared list: first the valid names, then the problems (which quote the valid names)
    const declared: string[] = [];
    const declaredElements: { name: string; span: Span; binding: BindingModel | undefined }[] = [];
    const problems: { at: Span; message: string; fix: string; names: string[] }[] = [];
    if (declaredArg?.kind === "array") {
      for (const el of declaredArg.elements) {
        if (el.kind === "identifier") {
          if (el.name === "arguments" || el.name === "eval") {
            problems.push({
              at: el,
              message: `spinRemote's declared list cannot contain '${el.name}'.`,
              fix: `copy the value into a local first (const args = [...${el.name}]) and declare that local.`,
              names: [el.name],
            });
          } else if (declared.includes(el.name)) {
            problems.push({
              at: el,
              message: `'${el.name}' is declared twice in spinRemote's declared list.`,
              fix: `remove the duplicate '${el.name}'.`,
              names: [el.name],
            });
          } else {
            declared.push(el.name);
            declaredElements.push({ name: el.name, span: el, binding: bindingOf(el.ref) });
          }
        } else {
          const what =
            el.kind === "hole"
              ? "an empty slot"
              : el.kind === "spread"
                ? "a spread element"
                : `'${model.text.slice(el.start, el.end)}'`;
          problems.push({
            at: el,
            message: `spinRemote requires an explicit declared list of identifiers; found ${what}.`,
            fix: "list the captured locals by name, e.g. spinRemote(scope, [a, b], …); compute other values into a local first.",
            names: [],
          });
        }
      }
    } else if (declaredArg !== undefined && declaredArg.kind !== "spread") {
      problems.push({
        at: declaredArg,
        message: `spinRemote requires an explicit declared list (an array literal of identifiers) as its second argument; found '${model.text.slice(declaredArg.start, declaredArg.end)}'.`,
        fix: "write the captured locals as an array literal: spinRemote(scope, [a, b], async ($) => …).",
        names: [],
      });
    }
    for (const p of problems) report("SPINDEL003", p.at, p.message, p.fix, p.names, declared);

    // call shape
    const spread = call.args.find((a) => a.kind === "spread");
    if (call.args.length !== 3 || spread) {
      report(
        "SPINDEL005",
        spread ?? callSpan,
        spread
          ? "spinRemote cannot take spread arguments."
          : `spinRemote takes exactly 3 arguments (scope, declared list, body); found ${call.args.length}.`,
        "call it as spinRemote(scope, [declared…], async ($) => …).",
        [],
        declared,
      );
    }
    if (bodyArg !== undefined && bodyArg.kind !== "function" && bodyArg.kind !== "spread") {
      report(
        "SPINDEL005",
        bodyArg,
        "spinRemote's body must be an inline arrow function or function expression, so the compiler can check and hoist it.",
        "write the body inline: spinRemote(scope, [a], async ($) => …).",
        [],
        declared,
      );
    } else if (bodyArg?.kind === "function" && bodyArg.isGenerator) {
      report(
        "SPINDEL005",
        bodyArg,
        "spinRemote's body cannot be a generator function.",
        "use an async function and $.await(...) instead of yield.",
        [],
        declared,
      );
    }

    if (bodyArg?.kind === "function") {
      const scopeText = scopeArg ? model.text.slice(scopeArg.start, scopeArg.end) : "";
      const shownScope =
        scopeText.length > 0 && scopeText.length <= 40 && !/[\r\n]/.test(scopeText) ? scopeText : "scope";
      analyzeBody(bodyArg, declared, declaredElements, unchecked, shownScope);
    }

    const errorsNow = diagnostics.filter((d) => d.severity === "error").length;
    if (
      errorsNow === before &&
      id &&
      scopeArg &&
      declaredArg?.kind === "array" &&
      bodyArg?.kind === "function" &&
      call.args.length === 3
    ) {
      remotes.push({
        id: `${options.moduleKey}:${id.fnName}:${id.ordinal}`,
        fnName: id.fnName,
        ordinal: id.ordinal,
        hash: bodyHash(declared, model.text.slice(bodyArg.start, bodyArg.end)),
        params: declared,
        unchecked,
        call: callSpan,
        scope: { start: scopeArg.start, end: scopeArg.end },
        declared: { start: declaredArg.start, end: declaredArg.end },
        body: { start: bodyArg.start, end: bodyArg.end },
      });
    }
  }

  function analyzeBody(
    body: FunctionArg,
    declared: readonly string[],
    declaredElements: readonly { name: string; span: Span; binding: BindingModel | undefined }[],
    unchecked: boolean,
    shownScope: string,
  ): void {
    const declaredSet = new Set(declared);
    const used = new Set<string>();
    const missing = new Map<string, ReferenceModel>();
    const mutable = new Map<string, ReferenceModel>();
    const forbidden = (name: string, at: Span, why: string, fix: string): void => {
      report("SPINDEL002", at, `spinRemote body uses '${name}', ${why}`, fix, [name], declared);
    };
    for (const r of refsIn(body)) {
      if (r.end > body.end) continue;
      const b = bindingOf(r);
      // `arguments` of the body itself or of anything around it (a nested function's own is fine)
      if (
        r.name === "arguments" &&
        (!b || (b.kind === "arguments" && !isWithin(b.scope.parent, body.scope)))
      ) {
        forbidden(
          "arguments",
          r,
          "an arguments object: the enclosing function's is not sent to the remote peer, and the body's own holds only the runtime's call arguments.",
          "declare the parameters you need by name: spinRemote(scope, [x, y], …).",
        );
        continue;
      }
      if (b && isWithin(b.scope, body.scope)) continue; // local to the body
      if (r.name === "eval" && !b) {
        forbidden(
          "eval",
          r,
          "which can read the local scope of the calling peer and cannot be checked.",
          "remove eval; pass the values it needs as declared locals.",
        );
        continue;
      }
      if (declaredSet.has(r.name)) {
        used.add(r.name);
        continue;
      }
      if (!b) continue; // global
      if (b.scope === moduleScope) {
        // module-level binding or import: resolved on the remote peer; mutable ones differ per peer
        if ((b.kind === "let" || b.kind === "var") && !mutable.has(r.name)) mutable.set(r.name, r);
        continue;
      }
      if (!missing.has(r.name)) missing.set(r.name, r);
    }
    for (const s of model.specials) {
      if (s.start < body.start || s.end > body.end) continue;
      if (s.kind === "with") {
        forbidden(
          "with",
          s,
          "which makes every name in its block ambiguous.",
          "replace the with statement by explicit property reads.",
        );
        continue;
      }
      const own =
        s.thisScope !== undefined && s.thisScope !== body.scope && isWithin(s.thisScope, body.scope);
      if (own) continue; // bound by a function or class inside the body
      const what =
        s.kind === "this"
          ? "the caller's this, which cannot be sent to the remote peer."
          : s.kind === "super"
            ? "the caller's super, which does not exist on the remote peer."
            : "the caller's new.target, which does not exist on the remote peer.";
      forbidden(
        s.kind,
        s,
        what,
        `copy what you need into a local before the call (const v = ${s.kind === "this" ? "this.value" : s.kind === "super" ? "super.method()" : "new.target"}) and declare it.`,
      );
    }
    const missingNames = [...missing.keys()];
    for (const [name, r] of missing) {
      const names = [name, ...missingNames.filter((n) => n !== name)];
      const fix = `add ${missingNames.length > 1 ? "them" : `'${name}'`} to the declared list: spinRemote(${shownScope}, ${list(
        [...declared, ...missingNames],
      )}, …), or define '${name}' inside the body.`;
      if (unchecked) {
        report(
          "SPINDEL001",
          r,
          `spinRemote.unchecked body uses '${name}', a local of an enclosing function, without declaring it; on the remote peer '${name}' will be unbound (a ReferenceError) or a different binding. Missing: ${list(missingNames)}. Declared: ${list(declared)}.`,
          fix,
          names,
          declared,
          "warning",
        );
      } else {
        report(
          "SPINDEL001",
          r,
          `spinRemote body uses '${name}', a local of an enclosing function, without declaring it. Missing: ${list(missingNames)}. Declared: ${list(declared)}.`,
          fix,
          names,
          declared,
        );
      }
    }
    for (const [name, r] of mutable) {
      report(
        "SPINDEL012",
        r,
        `spinRemote body uses '${name}', a module-level mutable binding (let/var): it resolves on the remote peer to that peer's own copy, not to this peer's current value.`,
        `if the body needs this peer's value, copy it into a local (const v = ${name}) and declare that; if the remote peer's own state is meant, make that explicit (e.g. a signal or a const holder).`,
        [name],
        declared,
      );
    }
    for (const el of declaredElements) {
      const b = el.binding;
      if (!b || b.scope === moduleScope) {
        const what = !b ? "a global" : b.kind === "import" ? "an import" : "a module-level binding";
        report(
          "SPINDEL011",
          el.span,
          `'${el.name}' is ${what}, not a local: the remote peer has its own '${el.name}', and declaring it sends this peer's value instead.`,
          `remove '${el.name}' from the declared list to use the remote peer's own binding, or copy it into a local (const v = ${el.name}) and declare that to send this value.`,
          [el.name],
          declared,
        );
      }
      if (!used.has(el.name)) {
        report(
          "SPINDEL010",
          el.span,
          `'${el.name}' is declared but the spinRemote body never uses it; its value is still sent to the remote peer.`,
          `remove '${el.name}' from the declared list.`,
          [el.name],
          declared,
        );
      }
    }
  }

  // --- nested spins: deps and key injection ---------------------------------------------------
  const spins: SpinSite[] = [];
  const bodies = [...spinBodies.values()];
  for (const call of options.nestedSpinDeps === false ? [] : model.calls) {
    const role = roles.get(call);
    if (role !== "spin" && role !== "scopeSpin") continue;
    const body = call.args[0];
    if (body?.kind !== "function" || call.args.length > 2) continue;
    const opts = call.args[1];
    if (opts !== undefined && opts.kind !== "object") continue;
    if (opts?.properties.some((p) => p.kind === "spread" || p.key === "deps")) continue;
    const hasKey = opts?.properties.some((p) => p.key === "key") ?? false;

    // the innermost spin body around the call
    let outer: FunctionArg | undefined;
    if (role === "scopeSpin" && call.callee.kind === "member" && call.callee.object.kind === "identifier") {
      outer = spinBodies.get(bindingOf(call.callee.object.ref)!.scope);
    } else {
      for (const s of bodies) {
        if (s.start <= call.start && call.end <= s.end && (!outer || s.start >= outer.start)) outer = s;
      }
    }
    if (!outer) continue;

    // captured enclosing locals
    const deps: string[] = [];
    let tdz = false;
    const callFn = functionScopeOf(call.scope);
    for (const r of refsIn(body)) {
      if (r.end > body.end) continue;
      const b = bindingOf(r);
      if (!b || b.scope === moduleScope || isWithin(b.scope, body.scope)) continue;
      if (deps.includes(r.name)) continue;
      // a binding of the same function activation that is not initialised yet when the call runs:
      // `deps: [x]` would throw (TDZ) or see `undefined`, so such a call is left alone
      if (b.kind !== "function" && functionScopeOf(b.scope) === callFn && b.declEnd > call.start) tdz = true;
      deps.push(r.name);
    }
    if (tdz) continue;
    // an arrow body that uses `this` takes it from an enclosing function: a capture like any other
    // (a method called on another object re-runs the gate). `this` of the body's own function, or
    // at module level (undefined), is not.
    const takesThis = model.specials.some(
      (sp) =>
        sp.kind === "this" &&
        sp.start >= body.start &&
        sp.end <= body.end &&
        sp.thisScope !== undefined &&
        !isWithin(sp.thisScope, body.scope),
    );
    if (takesThis) deps.push("this");

    let key: string | undefined;
    if (!hasKey) {
      const inCallback = callFn !== outer.scope;
      const inLoop = model.loops.some(
        (l) => l.start >= outer.start && l.end <= outer.end && l.start <= call.start && call.end <= l.end,
      );
      const afterAwait =
        role === "spin" &&
        model.awaits.some((a) => a.start < call.start && functionScopeOf(a.scope) === outer.scope);
      if (!inCallback && !inLoop && !afterAwait) {
        const { line, column } = lines.position(call.start);
        key = `${options.moduleKey}:${line}:${column}`;
      }
    }
    const last = opts?.properties[opts.properties.length - 1];
    spins.push({
      call: { start: call.start, end: call.end },
      body: { start: body.start, end: body.end },
      bodyArgEnd: body.outerEnd,
      options: opts ? { start: opts.start, end: opts.end, lastPropertyEnd: last?.end } : undefined,
      deps,
      key,
    });
  }

  checkContextSlips();

  diagnostics.sort(compareDiagnostics);
  return { model, diagnostics, remotes, spins };

  /**
   * SPINDEL013/014: the run's context is only current in the synchronous part of a body. After the
   * first `await`, `sig.value` reads the default context; `await child` always goes through
   * `child.then`, which reads the default context. Both return another context's values and record
   * no dependency, silently. Purely syntactic: only names bound to `signal(…)`, `spin(…)`/`$.spin(…)`
   * or `remoteFn(…)` in this file are known.
   */
  function checkContextSlips(): void {
    type Known = "signal" | "spin" | "remoteFn";
    const known = new Map<BindingModel, Known>();
    for (const call of model.calls) {
      if (call.assignedName === undefined) continue;
      const role = roles.get(call);
      const kind: Known | undefined =
        importedName(call.callee) === "signal"
          ? "signal"
          : role === "spin" || role === "scopeSpin"
            ? "spin"
            : role === "remoteFn"
              ? "remoteFn"
              : undefined;
      if (kind === undefined) continue;
      const b = resolve({ name: call.assignedName, scope: call.scope });
      // only a declaration whose initialiser is this call (`const x = signal(…)`)
      if (
        b &&
        (b.kind === "const" || b.kind === "let" || b.kind === "var") &&
        b.start < call.start &&
        call.end <= b.declEnd
      )
        known.set(b, kind);
    }
    if (spinBodies.size === 0) return;
    const text = model.text;
    const callAt = new Map<number, CallModel>();
    for (const call of model.calls) if (!callAt.has(call.start)) callAt.set(call.start, call);
    const refAt = new Map<number, ReferenceModel>();
    for (const r of refs) refAt.set(r.start, r);

    for (const [scope, body] of spinBodies) {
      const $ = body.params[0];
      const awaits = model.awaits.filter(
        (a) => a.start >= body.start && a.start < body.end && functionScopeOf(a.scope) === scope,
      );
      if (awaits.length === 0) continue;
      const firstAwait = Math.min(...awaits.map((a) => a.start));

      for (const r of refsIn({ start: firstAwait, end: body.end })) {
        if (functionScopeOf(r.scope) !== scope) continue;
        const b = bindingOf(r);
        if (!b || known.get(b) !== "signal") continue;
        if (!/^\s*\??\.\s*value\b/.test(text.slice(r.end, r.end + 40))) continue;
        const track = $ ? `${$}.track(${r.name})` : `$.track(${r.name}) (with the body's first parameter, $)`;
        report(
          "SPINDEL013",
          { start: r.start, end: r.end },
          `'${r.name}.value' after the first await of a spin body reads the default context, not the context the body runs in, and records no dependency (a write with '.value =' goes to the default context too).`,
          `read it with ${track} (re-runs on change) or ${$ ?? "$"}.peek(${r.name}); write it with ${$ ?? "$"}.set(${r.name}, v).`,
          [r.name],
          [],
        );
      }

      for (const a of awaits) {
        const m = /^await[\s(]+/.exec(text.slice(a.start, a.start + 200));
        if (!m) continue; // for await, await using
        const at = a.start + m[0].length;
        const r = refAt.get(at);
        const b = r ? bindingOf(r) : undefined;
        const next = r ? text.slice(r.end).trimStart()[0] : undefined;
        let name: string | undefined;
        if (r && b && known.get(b) === "spin" && (next === undefined || !".([`!".includes(next)))
          name = r.name;
        else if (r && b && known.get(b) === "remoteFn" && next === "(") name = `${r.name}(…)`;
        else {
          const call = callAt.get(at);
          const role = call ? roles.get(call) : undefined;
          if (role === "spin" || role === "scopeSpin")
            name = `${text.slice(at, call!.args[0]?.start ?? at).trim()}…)`;
        }
        if (name === undefined) continue;
        report(
          "SPINDEL014",
          { start: a.start, end: at + (r ? r.end - r.start : 5) },
          `'await ${name}' inside a spin body awaits the spin in the default context, not the context the body runs in, and records no dependency.`,
          `await it through the body's scope: await ${$ ?? "$"}.await(${name}).`,
          [r?.name ?? "spin"],
          [],
        );
      }
    }
  }
}
