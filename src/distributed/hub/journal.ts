/**
 * The hub's durable record of its topics, in LevelDB (classic-level) under `--store`. Per topic:
 * a meta cell (mode, next sequence number, last Redis stream id), a snapshot, and an append-only
 * log of the writes accepted since the snapshot. Each accepted write is one small batch (its log
 * entry plus the meta cell), never a rewrite of the whole value; `compact` folds the log into a
 * new snapshot. Reopening the directory gives every topic back as snapshot + log.
 * @module
 */
import { mkdirSync } from "node:fs";
import { ClassicLevel } from "classic-level";
import { decodeCbor, encodeCbor } from "../../core/persist/codec.js";
import { HubError } from "./errors.js";

/** What a topic's record says about its stream position and shape. */
export interface TopicMeta {
  /** How the topic replicates (`"delta"` or `"lww"`), fixed by the first replica that opened it. */
  readonly mode: string;
  /** Sequence number of the next log entry. */
  readonly seq: number;
  /** Last Redis stream id this hub processed for the topic (`null`: never followed). */
  readonly streamId: string | null;
}

/** A topic as loaded: its meta, snapshot (or `undefined`) and the log since the snapshot, in order. */
export interface TopicRecord {
  readonly meta: TopicMeta;
  readonly snapshot: unknown;
  readonly log: readonly unknown[];
}

type Db = ClassicLevel<string, Uint8Array>;

const enc = (topic: string) => encodeURIComponent(topic);
const metaKey = (t: string) => `m/${enc(t)}`;
const snapKey = (t: string) => `s/${enc(t)}`;
const logPrefix = (t: string) => `l/${enc(t)}/`;
const logKey = (t: string, seq: number) => `${logPrefix(t)}${seq.toString(16).padStart(12, "0")}`;

/** The hub's topic journal (see the module comment). */
export class HubJournal {
  private writing = 0;
  private closed = false;
  /** Bytes written since open. */
  bytesWritten = 0;

  private constructor(
    private readonly db: Db,
    /** The directory. */
    readonly dir: string,
  ) {}

  /**
   * Opens (creating it if needed) the journal in `dir`. Throws `HubError` `ERR_STORE_UNWRITABLE`
   * when the directory cannot be created or written, or another process holds it.
   */
  static async open(dir: string): Promise<HubJournal> {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new HubError(
        "ERR_STORE_UNWRITABLE",
        `cannot create the store directory ${dir}: ${(e as Error).message}`,
        e,
      );
    }
    const db: Db = new ClassicLevel<string, Uint8Array>(dir, { valueEncoding: "view" });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const locked = cause?.code === "LEVEL_LOCKED";
      throw new HubError(
        "ERR_STORE_UNWRITABLE",
        locked
          ? `the store directory ${dir} is in use by another process (is another hub running on it?)`
          : `cannot open the store in ${dir}: ${cause?.message ?? (e as Error).message}`,
        e,
      );
    }
    return new HubJournal(db, dir);
  }

  /** Writes in flight (not yet on disk). */
  get pending(): number {
    return this.writing;
  }

  /** Every topic in the journal. */
  async topics(): Promise<string[]> {
    const out: string[] = [];
    for await (const k of this.db.keys({ gte: "m/", lt: "m0" })) out.push(decodeURIComponent(k.slice(2)));
    return out;
  }

  /** Loads a topic, or `undefined` when the journal has never seen it. */
  async load(topic: string): Promise<TopicRecord | undefined> {
    const m = await this.db.get(metaKey(topic));
    if (m === undefined) return undefined;
    const meta = decodeCbor(m) as TopicMeta;
    const s = await this.db.get(snapKey(topic));
    const log: unknown[] = [];
    const p = logPrefix(topic);
    for await (const v of this.db.values({ gte: p, lt: `${p}~` })) log.push(decodeCbor(v));
    return { meta, snapshot: s === undefined ? undefined : decodeCbor(s), log };
  }

  /** Records one accepted write (`entry`) and the new meta; resolves once it is on disk. */
  async append(topic: string, meta: TopicMeta, entry: unknown): Promise<void> {
    const v = encodeCbor(entry);
    const mv = encodeCbor(meta);
    await this.write(
      () =>
        this.db.batch([
          { type: "put", key: logKey(topic, meta.seq - 1), value: v },
          { type: "put", key: metaKey(topic), value: mv },
        ]),
      v.byteLength + mv.byteLength,
    );
  }

  /** Records only the meta (e.g. a new stream position). */
  async setMeta(topic: string, meta: TopicMeta): Promise<void> {
    const mv = encodeCbor(meta);
    await this.write(() => this.db.put(metaKey(topic), mv), mv.byteLength);
  }

  /** Replaces the topic's snapshot by `snapshot` and drops its log entries below `meta.seq`. */
  async compact(topic: string, meta: TopicMeta, snapshot: unknown): Promise<void> {
    const sv = encodeCbor(snapshot);
    const mv = encodeCbor(meta);
    await this.write(async () => {
      const p = logPrefix(topic);
      const batch = this.db.batch();
      for await (const k of this.db.keys({ gte: p, lt: logKey(topic, meta.seq) })) batch.del(k);
      batch.put(snapKey(topic), sv);
      batch.put(metaKey(topic), mv);
      await batch.write();
    }, sv.byteLength + mv.byteLength);
  }

  /** Closes the database after the writes in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private async write(op: () => Promise<unknown>, bytes: number): Promise<void> {
    if (this.closed) throw new HubError("ERR_CLOSED", "the hub's store is closed");
    this.writing++;
    try {
      await op();
      this.bytesWritten += bytes;
    } finally {
      this.writing--;
    }
  }
}
