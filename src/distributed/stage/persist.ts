/**
 * How a stage datatype sits in a store: its value as an immutable content-addressed node (the
 * value's canonical CBOR, written once) and a mutable head cell `{ kind, node }` naming it. The
 * head is written after the node, so a crash between the two leaves the previous value readable;
 * a cold reopen rebuilds the value from the head and its node alone.
 * @module
 */
import { putContent } from "../store/content.js";
import type { KVStore } from "../store/kv.js";
import { type Address, headKey, type StageKind } from "./address.js";
import { StageError } from "./errors.js";

interface Head {
  readonly kind: StageKind;
  readonly node: string;
}

function isHead(v: unknown): v is Head {
  if (typeof v !== "object" || v === null) return false;
  const h = v as Partial<Head>;
  return (h.kind === "ormap" || h.kind === "cdvcs") && typeof h.node === "string";
}

/** Reads the datatype at `address`, or `undefined` when the store has none. */
export async function loadDatatype(
  store: KVStore,
  address: Address,
): Promise<{ kind: StageKind; value: unknown } | undefined> {
  const head = await store.get(headKey(address));
  if (head === undefined) return undefined;
  if (!isHead(head))
    throw new StageError(
      "ERR_STAGE_PROTOCOL",
      `the store's head record of [${address.join(", ")}] is malformed`,
    );
  const value = await store.get(head.node);
  if (value === undefined)
    throw new StageError(
      "ERR_STAGE_PROTOCOL",
      `the store names node ${head.node} as the value of [${address.join(", ")}] but does not hold it`,
    );
  return { kind: head.kind, value };
}

/** Writes `value` as the datatype at `address` (node first, then the head). */
export async function saveDatatype(
  store: KVStore,
  address: Address,
  kind: StageKind,
  value: unknown,
): Promise<void> {
  const clean =
    typeof value === "object" &&
    value !== null &&
    typeof (value as { clearDelta?: unknown }).clearDelta === "function"
      ? (value as { clearDelta(): unknown }).clearDelta()
      : value;
  const node = await putContent(store, clean);
  await store.put(headKey(address), { kind, node } satisfies Head);
}
