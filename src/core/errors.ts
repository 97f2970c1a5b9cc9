/**
 * Typed errors; they live in the kernel, which raises most of them (re-exported here).
 * @module
 */
export * from "./kernel/errors.js";

/**
 * `v` as an error message shows it: `String(v)`, or its kind when `String` throws. A value off the
 * wire can be `{"toString": 0}` (or an object without a prototype), whose `String` throws a
 * `TypeError`: the message of the typed error that refuses it must not throw in its place.
 * @internal
 */
export function shown(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Array.isArray(v) ? "an array" : `a value of type ${typeof v}`;
  }
}
