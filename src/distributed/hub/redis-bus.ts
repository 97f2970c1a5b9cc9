/**
 * Scale-out between hubs over Redis Streams: one stream per topic. Each hub appends the publishes
 * it accepted (`XADD`, trimmed to about `maxLen` entries) and reads the other hubs' entries from
 * the last id it processed (`XREAD BLOCK`). The last id is the caller's to keep (the hub stores it
 * next to the topic's state), so a restarted hub resumes where it stopped, and a Redis restart
 * (with its own persistence) loses nothing: the reader re-issues its read from the same ids.
 *
 * Two connections: a blocking reader and one for appends and control. Following a new topic
 * interrupts the blocked read (`CLIENT UNBLOCK`) so the new stream is read at once.
 * @module
 */
import { Redis } from "ioredis";
import { type Clock, createClock, type TimerHandle } from "../../core/clock.js";
import { HubError } from "./errors.js";

/** One entry of a topic's stream that another hub appended. */
export interface BusEntry {
  /** The topic (the stream is `prefix + topic`). */
  readonly topic: string;
  /** The stream entry id (`<ms>-<seq>`). */
  readonly id: string;
  /** The id of the hub that appended it. */
  readonly origin: string;
  /** The bytes it appended. */
  readonly payload: Uint8Array;
}

/**
 * Called, in stream order and one call at a time, with the new entries of a followed topic.
 * `entries` excludes this hub's own appends; `lastId` is the last id read (own entries included),
 * the id to resume from. The next read of this topic waits for the returned promise.
 */
export type BusHandler = (entries: readonly BusEntry[], lastId: string) => void | Promise<void>;

/** Options of {@link RedisStreamBus.connect}. */
export interface RedisStreamBusOptions {
  /** `redis://[user:pass@]host:port[/db]` */
  url: string;
  /** This hub's id: written with every append, and used to skip its own entries when reading. */
  hubId: string;
  /** Approximate cap of each topic's stream (`XADD MAXLEN ~`; default 10,000). */
  maxLen?: number;
  /** Key prefix of the streams (default `"spindel:topic:"`). */
  prefix?: string;
  /** How long one blocking read waits before it is re-issued (default 5,000 ms). */
  blockMs?: number;
  /** Entries per read and stream (default 500). */
  count?: number;
  /** How long `connect` waits for Redis to answer (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Timers of the retry backoff (default: a real clock). */
  clock?: Clock;
  /** Diagnostics: failed reads (retried), handlers that threw. */
  onError?: (error: unknown, where: string) => void;
}

interface Followed {
  lastId: string;
  handler: BusHandler;
}

const te = new TextDecoder();
const asString = (b: Buffer | string): string => (typeof b === "string" ? b : te.decode(b));

/** A Redis Streams bus between hubs (see the module comment). */
export class RedisStreamBus {
  private readonly followed = new Map<string, Followed>();
  private readonly prefix: string;
  private readonly maxLen: number;
  private readonly blockMs: number;
  private readonly count: number;
  private readonly clock: Clock;
  private readerId: number | null = null;
  private blocked = false;
  private closed = false;
  private loop: Promise<void> | null = null;
  private retry: TimerHandle | null = null;
  private wake: (() => void) | null = null;
  /** Entries appended by this hub. */
  appended = 0;
  /** Entries of other hubs delivered to handlers. */
  received = 0;
  /** Payload bytes appended plus received. */
  bytes = 0;

  private constructor(
    private readonly opts: RedisStreamBusOptions,
    private readonly writer: Redis,
    private readonly reader: Redis,
  ) {
    this.prefix = opts.prefix ?? "spindel:topic:";
    this.maxLen = opts.maxLen ?? 10_000;
    this.blockMs = opts.blockMs ?? 5_000;
    this.count = opts.count ?? 500;
    this.clock = opts.clock ?? createClock("real");
  }

  /**
   * Connects both connections and checks that Redis answers; throws `HubError` `ERR_REDIS` when the
   * URL is malformed or Redis does not answer within `connectTimeoutMs`. Later outages are
   * survived: commands wait for the reconnect.
   */
  static async connect(opts: RedisStreamBusOptions): Promise<RedisStreamBus> {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new HubError("ERR_REDIS", `--redis ${opts.url}: not a URL (expected redis://host:port)`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:")
      throw new HubError("ERR_REDIS", `--redis ${opts.url}: expected a redis:// or rediss:// URL`);
    if (typeof opts.hubId !== "string" || opts.hubId === "")
      throw new HubError("ERR_REDIS", "the bus needs a non-empty hub id");
    const make = () =>
      new Redis(opts.url, {
        lazyConnect: true,
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
        // reconnect forever, at most one attempt per second
        retryStrategy: (times) => Math.min(50 * times, 1_000),
      });
    const writer = make();
    const reader = make();
    // ioredis reports each failed reconnect as an 'error' event; without a listener it logs them
    writer.on("error", (e) => opts.onError?.(e, "redis writer"));
    reader.on("error", (e) => opts.onError?.(e, "redis reader"));
    const timeoutMs = opts.connectTimeoutMs ?? 5_000;
    const clock = opts.clock ?? createClock("real");
    let timer: TimerHandle | null = null;
    try {
      await Promise.race([
        Promise.all([writer.connect(), reader.connect()]).then(() => writer.ping()),
        new Promise<never>((_, reject) => {
          timer = clock.setTimer(timeoutMs, () =>
            reject(new HubError("ERR_REDIS", `Redis at ${opts.url} did not answer within ${timeoutMs} ms`)),
          );
        }),
      ]);
    } catch (e) {
      writer.disconnect();
      reader.disconnect();
      if (e instanceof HubError) throw e;
      throw new HubError("ERR_REDIS", `cannot reach Redis at ${opts.url}: ${(e as Error).message}`, e);
    } finally {
      (timer as TimerHandle | null)?.cancel();
    }
    const bus = new RedisStreamBus(opts, writer, reader);
    bus.readerId = Number(await reader.client("ID"));
    reader.on("ready", () => {
      // a reconnect gives the reader a new client id (used to interrupt its blocked read)
      reader.client("ID").then(
        (id) => {
          bus.readerId = Number(id);
        },
        (e: unknown) => opts.onError?.(e, "redis client id"),
      );
    });
    return bus;
  }

  /** The stream key of `topic`. */
  key(topic: string): string {
    return this.prefix + topic;
  }

  /** Topics being followed. */
  get topics(): string[] {
    return [...this.followed.keys()];
  }

  /**
   * Read `topic`'s stream from after `fromId` (`"0"`: from its start) and hand every entry other
   * hubs appended to `handler`. Following a topic again replaces its handler and position.
   */
  follow(topic: string, fromId: string, handler: BusHandler): void {
    this.checkOpen();
    this.followed.set(topic, { lastId: fromId, handler });
    if (this.loop === null) this.loop = this.run();
    else {
      this.wake?.();
      this.interrupt();
    }
  }

  /** Stop reading `topic`. */
  unfollow(topic: string): void {
    this.followed.delete(topic);
  }

  /** The last id read of a followed topic. */
  position(topic: string): string | undefined {
    return this.followed.get(topic)?.lastId;
  }

  /**
   * Appends `payload` to `topic`'s stream (trimmed to about `maxLen`) and resolves with its id once
   * Redis has it. While Redis is unreachable the append waits for the reconnect.
   */
  async append(topic: string, payload: Uint8Array): Promise<string> {
    this.checkOpen();
    const id = await this.writer.xadd(
      this.key(topic),
      "MAXLEN",
      "~",
      String(this.maxLen),
      "*",
      "o",
      this.opts.hubId,
      "p",
      Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    );
    this.appended++;
    this.bytes += payload.byteLength;
    return id as string;
  }

  /**
   * Every entry of `topic`'s stream after `afterId` (`"0"`: all), other hubs' only, and the last id
   * read (own entries included; `afterId` when there is none). For catching up before following.
   */
  async readAfter(topic: string, afterId: string): Promise<{ entries: BusEntry[]; lastId: string }> {
    this.checkOpen();
    const entries: BusEntry[] = [];
    let lastId = afterId;
    for (;;) {
      const start = lastId === "0" || lastId === "0-0" ? "-" : `(${lastId}`;
      const rows = (await this.writer.xrangeBuffer(this.key(topic), start, "+", "COUNT", this.count)) as [
        Buffer,
        Buffer[],
      ][];
      if (rows.length === 0) return { entries, lastId };
      for (const row of rows) {
        const e = this.entry(topic, row);
        lastId = e.id;
        if (e.origin !== this.opts.hubId && e.payload !== null) {
          entries.push({ topic, id: e.id, origin: e.origin, payload: e.payload });
          this.bytes += e.payload.byteLength;
          this.received++;
        }
      }
    }
  }

  private entry(topic: string, [idBuf, fields]: [Buffer, Buffer[]]) {
    let origin = "";
    let payload: Uint8Array | null = null;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = asString(fields[i] as Buffer);
      if (name === "o") origin = asString(fields[i + 1] as Buffer);
      else if (name === "p") payload = new Uint8Array(fields[i + 1] as Buffer);
    }
    return { topic, id: asString(idBuf), origin, payload };
  }

  /** Stops reading and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retry?.cancel();
    this.wake?.();
    this.interrupt();
    const loop = this.loop;
    // the reader may be blocked; disconnect ends its pending read
    this.reader.disconnect();
    await loop?.catch(() => {});
    await this.writer.quit().catch(() => this.writer.disconnect());
  }

  private checkOpen(): void {
    if (this.closed) throw new HubError("ERR_CLOSED", "the Redis bus is closed");
  }

  private interrupt(): void {
    if (!this.blocked || this.readerId === null) return;
    this.writer
      .client("UNBLOCK", this.readerId)
      .catch((e: unknown) => this.opts.onError?.(e, "redis unblock"));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      const topics = [...this.followed.keys()];
      if (topics.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        this.blocked = true;
        reply = (await this.reader.xreadBuffer(
          "COUNT",
          this.count,
          "BLOCK",
          this.blockMs,
          "STREAMS",
          ...topics.map((t) => this.key(t)),
          ...topics.map((t) => this.followed.get(t)?.lastId ?? "0"),
        )) as [Buffer, [Buffer, Buffer[]][]][] | null;
        failures = 0;
      } catch (e) {
        this.blocked = false;
        if (this.closed) return;
        this.opts.onError?.(e, "redis read");
        failures++;
        await new Promise<void>((resolve) => {
          this.retry = this.clock.setTimer(Math.min(100 * 2 ** failures, 2_000), resolve);
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      } finally {
        this.blocked = false;
      }
      if (reply === null) continue;
      for (const [keyBuf, rows] of reply) {
        const topic = asString(keyBuf).slice(this.prefix.length);
        const f = this.followed.get(topic);
        if (f === undefined || rows.length === 0) continue;
        const entries: BusEntry[] = [];
        let lastId = f.lastId;
        for (const row of rows) {
          const e = this.entry(topic, row);
          lastId = e.id;
          if (e.origin === this.opts.hubId || e.payload === null) continue;
          entries.push({ topic, id: e.id, origin: e.origin, payload: e.payload });
          this.bytes += e.payload.byteLength;
        }
        this.received += entries.length;
        try {
          await f.handler(entries, lastId);
        } catch (e) {
          this.opts.onError?.(e, `bus handler of '${topic}'`);
        }
        // unfollowed or re-followed meanwhile: keep the newer position
        if (this.followed.get(topic) === f) f.lastId = lastId;
      }
    }
  }
}
