/**
 * How a stage datatype sits in a store: immutable content and a mutable head cell naming it,
 * written by one save in one atomic batch (content first, head last), so a crash leaves either the
 * previous value or the new one readable and a cold reopen rebuilds the value from the head:
 * - OR-Map and the other datatypes: the value as one immutable content-addressed node (the SHA-256
 *   of its canonical CBOR, as `putContent` writes it), head `{ kind, node }`;
 * - CDVCS: each commit once, immutable, under `stage/commit/<commit id>` (the commit id is already
 *   a content hash), head `{ kind: "cdvcs", heads }`; a save writes only the commits not yet saved.
 * @module
 */
import { encodeCbor } from "../../core/persist/codec.js";
import { CDVCS } from "../crdt/cdvcs.js";
import { contentOp } from "../store/content.js";
import type { KVStore } from "../store/kv.js";
import { type Address, headKey, STAGE_KINDS, type StageKind } from "./address.js";
import { StageError } from "./errors.js";

type Head =
  | { readonly kind: Exclude<StageKind, "cdvcs">; readonly node: string }
  | { readonly kind: "cdvcs"; readonly heads: readonly string[] };

function isHead(v: unknown): v is Head {
  if (typeof v !== "object" || v === null) return false;
  const h = v as { kind?: unknown; node?: unknown; heads?: unknown };
  if (typeof h.kind === "string" && h.kind !== "cdvcs" && STAGE_KINDS.includes(h.kind as StageKind))
    return typeof h.node === "string";
  return h.kind === "cdvcs" && Array.isArray(h.heads) && h.heads.every((x) => typeof x === "string");
}

/** The store key of one CDVCS commit. */
export function commitKey(id: string): string {
  return `stage/commit/${id}`;
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
  if (head.kind === "cdvcs") return { kind: "cdvcs", value: await loadCommits(store, address, head.heads) };
  const value = await store.get(head.node);
  if (value === undefined)
    throw new StageError(
      "ERR_STAGE_PROTOCOL",
      `the store names node ${head.node} as the value of [${address.join(", ")}] but does not hold it`,
    );
  return { kind: head.kind, value };
}

async function loadCommits(store: KVStore, address: Address, heads: readonly string[]): Promise<unknown> {
  const rows: unknown[] = [];
  const seen = new Set<string>();
  const stack = [...heads];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const row = await store.get(commitKey(id));
    if (!Array.isArray(row) || row.length !== 3 || !Array.isArray(row[0]))
      throw new StageError(
        "ERR_STAGE_PROTOCOL",
        `commit ${id} of [${address.join(", ")}] is missing or malformed in the store`,
      );
    rows.push(row);
    for (const p of row[0] as unknown[]) if (typeof p === "string") stack.push(p);
  }
  return CDVCS.decodeData(rows);
}

/**
 * Writes `value` as the datatype at `address`: content and head in one atomic batch (one backend
 * write, one fsync on disk). `saved` holds the CDVCS commit ids already in the store; new ones
 * are added to it once written.
 */
export async function saveDatatype(
  store: KVStore,
  address: Address,
  kind: StageKind,
  value: unknown,
  saved: Set<string>,
): Promise<void> {
  if (kind === "cdvcs") {
    const c = value as CDVCS<unknown>;
    const fresh = c.commits().filter((x) => !saved.has(x.id));
    await store.putMany([
      ...fresh.map((x) => [commitKey(x.id), [x.parents, x.txs, x.author], { immutable: true }] as const),
      [headKey(address), { kind, heads: c.heads } satisfies Head],
    ]);
    for (const x of fresh) saved.add(x.id);
    return;
  }
  const clean =
    typeof value === "object" &&
    value !== null &&
    typeof (value as { clearDelta?: unknown }).clearDelta === "function"
      ? (value as { clearDelta(): unknown }).clearDelta()
      : value;
  const { address: node, op } = await contentOp(clean);
  // the head's bytes are what `store.put` would write: the value's plain CBOR
  const head = encodeCbor({ kind, node } satisfies Head);
  await store.write([op, { op: "put", key: headKey(address), bytes: head }]);
}
