/**
 * Running an authorization hook: a refusal is a code and a message, chosen by the hook (a string
 * decision, or an error with a `code`) or `ERR_UNAUTHORIZED`. Synchronous hooks stay synchronous.
 * @module
 */
import { refusalOf } from "./errors.js";
import type { AuthDecision } from "./strategy.js";

/** Why a hook refused. */
export interface Refusal {
  readonly code: string;
  readonly message: string;
}

function judge(d: AuthDecision, what: string): Refusal | null {
  if (d === true) return null;
  if (typeof d === "string" && d !== "") return { code: d, message: `${what}: refused (${d})` };
  return { code: "ERR_UNAUTHORIZED", message: `${what}: not authorized` };
}

/** Runs `hook()`; `null` means allowed. Returns a promise only when the hook did. */
export function decide(
  hook: () => AuthDecision | Promise<AuthDecision>,
  what: string,
): Refusal | null | Promise<Refusal | null> {
  let d: AuthDecision | Promise<AuthDecision>;
  try {
    d = hook();
  } catch (e) {
    return refusalOf(e, `${what}: not authorized`);
  }
  if (typeof d === "object" && d !== null && typeof (d as Promise<AuthDecision>).then === "function")
    return (d as Promise<AuthDecision>).then(
      (v) => judge(v, what),
      (e: unknown) => refusalOf(e, `${what}: not authorized`),
    );
  return judge(d as AuthDecision, what);
}

/** Whether `v` is a promise-like. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as PromiseLike<unknown>).then === "function";
}
