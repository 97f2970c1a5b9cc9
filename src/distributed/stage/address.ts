/**
 * Addresses of stage datatypes, `[user, id]`, and the names derived from them: the sync topic
 * and the store keys. One place so the stage, its persistence and the stream agree.
 * @module
 */
import { StageError } from "./errors.js";

/** A datatype's global address: the user who owns it and an application-chosen id (a UUID). */
export type Address = readonly [user: string, id: string];

/**
 * The kinds of datatype a stage holds: replikativ's OR-Map of op lists and CDVCS (streamable), and
 * the other `spindel/crdt` datatypes by the same pattern.
 */
export type StageKind = "ormap" | "cdvcs" | "gset" | "orset" | "counter" | "lww";

/** Every {@link StageKind}. */
export const STAGE_KINDS: readonly StageKind[] = ["ormap", "cdvcs", "gset", "orset", "counter", "lww"];

/** Throws `ERR_INVALID_ARGUMENT` unless `a` is `[user, id]` with two non-empty strings. */
export function checkAddress(a: unknown): Address {
  if (
    !Array.isArray(a) ||
    a.length !== 2 ||
    typeof a[0] !== "string" ||
    typeof a[1] !== "string" ||
    a[1] === ""
  )
    throw new StageError(
      "ERR_INVALID_ARGUMENT",
      `a stage address is [user, id] (two strings, id non-empty), got ${String(a)}`,
    );
  if (a[0].includes("\u0000") || a[1].includes("\u0000"))
    throw new StageError("ERR_INVALID_ARGUMENT", "a stage address must not contain NUL characters");
  return [a[0], a[1]];
}

/** The sync topic that carries the datatype at `a`. */
export function topicOf(a: Address): string {
  return `stage/${encodeURIComponent(a[0])}/${encodeURIComponent(a[1])}`;
}

/** The store key of the datatype's head record (kind and current value). */
export function headKey(a: Address): string {
  return `stage/head/${encodeURIComponent(a[0])}/${encodeURIComponent(a[1])}`;
}

/** The prefix of the store keys that record which operations a named stream applied. */
export function appliedPrefix(log: string, a: Address): string {
  return `stage/applied/${encodeURIComponent(log)}/${encodeURIComponent(a[0])}/${encodeURIComponent(a[1])}/`;
}
