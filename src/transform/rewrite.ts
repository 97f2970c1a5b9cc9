/**
 * The rewrite, shared parts: generated names, and the text rewrite (magic-string, with a source
 * map) used by the Vite plugin and the programmatic {@link ./api.ts transformSource}. The ts-patch
 * transformer builds the same output as AST nodes (see {@link ./ts-rewrite.ts}).
 *
 * Output shape, for `export const add = remoteFn(function add(s, x, y) { return spinRemote(s, [x, y], async ($) => x + y); })`
 * in `src/math.ts`:
 *
 * ```js
 * import * as __spindel_rt from "spindel/distributed";
 * const __spindel_remote_add_0 = __spindel_rt.registerRemote("src/math:add:0", ["x", "y"], "<hash>", (x, y) => async ($) => x + y);
 * export const add = remoteFn(function add(s, x, y) { return __spindel_rt.invokeRemote(__spindel_remote_add_0, s, [x, y]); });
 * ```
 *
 * @module
 */
import MagicString from "magic-string";
import type { AnalysisResult, RemoteSite, SpinSite } from "./analyze.js";

/** Default module specifier of the generated runtime import. */
export const DEFAULT_RUNTIME_MODULE = "spindel/distributed";

/** The identifiers the rewrite introduces, chosen not to clash with any name in the module. */
export interface GeneratedNames {
  /** the namespace the runtime is imported as */
  readonly runtime: string;
  /** the constant holding the registered definition of each remote site */
  readonly defs: ReadonlyMap<RemoteSite, string>;
}

/** Picks the generated names for a module (a numeric suffix is added on a clash). */
export function generatedNames(result: AnalysisResult): GeneratedNames {
  const taken = new Set<string>();
  for (const s of result.model.scopes) for (const name of s.bindings.keys()) taken.add(name);
  for (const r of result.model.references) taken.add(r.name);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const runtime = fresh("__spindel_rt");
  const defs = new Map<RemoteSite, string>();
  for (const r of result.remotes) {
    defs.set(r, fresh(`__spindel_remote_${r.fnName.replace(/[^A-Za-z0-9_$]/g, "_")}_${r.ordinal}`));
  }
  return { runtime, defs };
}

/** The text of the object properties injected into a nested spin's options. */
export function spinOptionText(site: SpinSite): string {
  const parts = [`deps: [${site.deps.join(", ")}]`];
  if (site.key !== undefined) parts.push(`key: ${JSON.stringify(site.key)}`);
  return parts.join(", ");
}

/** The result of a text rewrite. */
export interface TextRewrite {
  /** the rewritten code */
  readonly code: string;
  /** the magic-string instance (for the source map) */
  readonly magic: MagicString;
}

/**
 * Applies an analysis result to the source text: injects nested-spin options, hoists every
 * remote body to module level (moving its text, so the source map still points at it) and
 * replaces each call by `invokeRemote`. Returns `undefined` when there is nothing to change.
 */
export function rewriteText(result: AnalysisResult, runtimeModule: string): TextRewrite | undefined {
  if (result.remotes.length === 0 && result.spins.length === 0) return undefined;
  const text = result.model.text;
  const s = new MagicString(text);

  for (const site of result.spins) {
    const props = spinOptionText(site);
    if (site.options === undefined) s.appendLeft(site.bodyArgEnd, `, { ${props} }`);
    else if (site.options.lastPropertyEnd === undefined) s.appendLeft(site.options.start + 1, ` ${props} `);
    else s.appendLeft(site.options.lastPropertyEnd, `, ${props}`);
  }

  if (result.remotes.length > 0) {
    const names = generatedNames(result);
    const at = result.model.insertionPoint;
    s.appendLeft(at, `\nimport * as ${names.runtime} from ${JSON.stringify(runtimeModule)};`);
    // inner bodies first: moving an outer body later carries the already-rewritten call site along
    const ordered = [...result.remotes].sort((a, b) => a.body.end - b.body.end);
    for (const r of ordered) {
      const def = names.defs.get(r)!;
      s.prependRight(
        r.body.start,
        `\nconst ${def} = ${names.runtime}.registerRemote(${JSON.stringify(r.id)}, ${JSON.stringify(r.params)}, ${JSON.stringify(r.hash)}, (${r.params.join(", ")}) => `,
      );
      s.appendLeft(r.body.end, ");");
      s.move(r.body.start, r.body.end, at);
      s.overwrite(r.call.start, r.scope.start, `${names.runtime}.invokeRemote(${def}, `);
      s.remove(r.declared.end, r.body.start);
      if (r.body.end < r.call.end - 1) s.remove(r.body.end, r.call.end - 1);
    }
    s.prependRight(at, "\n");
  }
  return { code: s.toString(), magic: s };
}
