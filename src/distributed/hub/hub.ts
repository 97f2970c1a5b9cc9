/**
 * The hub: a listening peer that owns every topic a client opens, keeps it in a durable journal
 * (`--store`), optionally shares its topics with other hubs through Redis Streams, and serves
 * `/health`, `/metrics` and (optionally) a static directory on the same HTTP server.
 *
 * Shutdown is ordered so that no acknowledged write is lost: `/health` turns 503, the listener
 * stops accepting, links close, writes in flight reach the disk and Redis, then the bus and the
 * store close.
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createContext } from "../../core/context.js";
import { invalidArgument } from "../../core/kernel/errors.js";
import { Peer } from "../peer.js";
import type { KVStore } from "../store/kv.js";
import "../transport-node.js";
// the built-in datatypes register their codecs: the hub decodes and joins their values
import "../crdt/index.js";
import { HubError } from "./errors.js";
import { type HubMetrics, httpHandler } from "./http.js";
import { HubJournal } from "./journal.js";
import { RedisStreamBus } from "./redis-bus.js";
import { HubTopics } from "./topics.js";

/** Options of {@link startHub} (the CLI's flags). */
export interface HubOptions {
  /** The hub's peer id (default `"hub"`); with Redis, each hub needs its own. */
  id?: string;
  /** Host to bind (default `"127.0.0.1"`). */
  host?: string;
  /** Port (default 8080; 0: any free port). */
  port?: number;
  /** The store directory (default `"./spindel-data"`). */
  store?: string;
  /** `redis://host:port`: share topics with the other hubs on this Redis. */
  redis?: string;
  /** Approximate cap of each topic's Redis stream (default 10,000). */
  redisMaxLen?: number;
  /**
   * With Redis: how long a topic found to have nothing (a read-only mirror asked for it) counts as
   * absent before a subscribe to it reads the topic's stream again, in case another hub created it
   * (default 2,000 ms; 0: read it on every subscribe).
   */
  absentRecheckMs?: number;
  /** Accepted client tokens (a client sends one as its credential); none: every client is accepted. */
  tokens?: readonly string[];
  /** Browser origins allowed to connect (default: any). */
  origins?: readonly string[];
  /** A directory served over HTTP (the demo app). */
  staticDir?: string;
  /** Diagnostics (protocol errors, Redis outages, refused clients). */
  onError?: (error: unknown, where: string) => void;
}

/** A running hub. */
export interface Hub {
  /** The hub's peer id. */
  readonly id: string;
  /** The peer (topics ride on it). */
  readonly peer: Peer;
  /** `ws://host:port/` for clients. */
  readonly url: string;
  /** `http://host:port/` (health, metrics, the static directory). */
  readonly httpUrl: string;
  /** The bound port. */
  readonly port: number;
  /** Current figures (what `/metrics` reports). */
  metrics(): HubMetrics;
  /**
   * The store replicated on `topic` (a `levelStore` in the store directory, opened and exported
   * on first use): write to it and every `subscribeStore` client of the topic gets the writes.
   */
  store(topic: string): Promise<KVStore>;
  /** Ordered shutdown (idempotent): see the module comment. */
  close(): Promise<void>;
}

function tokenMatches(tokens: readonly Buffer[], credential: unknown): boolean {
  if (typeof credential !== "string") return false;
  const c = Buffer.from(credential);
  let ok = false;
  for (const t of tokens) if (t.length === c.length && timingSafeEqual(t, c)) ok = true;
  return ok;
}

async function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (e.code === "EADDRINUSE")
        reject(
          new HubError(
            "ERR_PORT_IN_USE",
            `port ${port} on ${host} is already in use (choose another with --port)`,
            e,
          ),
        );
      else if (e.code === "EACCES")
        reject(
          new HubError(
            "ERR_PORT_IN_USE",
            `no permission to bind port ${port} on ${host} (ports below 1024 need privileges)`,
            e,
          ),
        );
      else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND")
        reject(new HubError("ERR_PORT_IN_USE", `cannot bind ${host}: no such local address`, e));
      else reject(new HubError("ERR_PORT_IN_USE", `cannot listen on ${host}:${port}: ${e.message}`, e));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
  return server.address() as AddressInfo;
}

/**
 * Starts a hub. Throws `HubError`: `ERR_STORE_UNWRITABLE` (the store directory), `ERR_PORT_IN_USE`
 * (the port), `ERR_REDIS` (the Redis URL or Redis itself). Nothing is left running when it throws.
 */
export async function startHub(opts: HubOptions = {}): Promise<Hub> {
  const id = opts.id ?? "hub";
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 8080;
  const started = Date.now();
  const report = (e: unknown, where: string) => opts.onError?.(e, where);
  const recheck = opts.absentRecheckMs;
  if (recheck !== undefined && !(typeof recheck === "number" && Number.isFinite(recheck) && recheck >= 0))
    invalidArgument(
      `startHub: absentRecheckMs must be a finite number of milliseconds >= 0, got ${String(recheck)}`,
    );
  const journal = await HubJournal.open(opts.store ?? "./spindel-data");
  let bus: RedisStreamBus | undefined;
  const server = createServer();
  let peer: Peer | undefined;
  try {
    if (opts.redis !== undefined)
      bus = await RedisStreamBus.connect({
        url: opts.redis,
        hubId: id,
        maxLen: opts.redisMaxLen,
        onError: report,
      });
    const tokens = (opts.tokens ?? []).map((t) => Buffer.from(t));
    const ctx = createContext({ name: `hub ${id}` });
    peer = new Peer({
      id,
      context: ctx,
      onError: report,
      authenticate:
        tokens.length === 0
          ? undefined
          : (hello) => (tokenMatches(tokens, hello.credential) ? hello.peerId : undefined),
    });
    const topics = new HubTopics(peer, ctx, journal, bus, report, opts.redisMaxLen, recheck);
    let draining = false;
    const p = peer;
    const metrics = (): HubMetrics => ({
      connections: p.connectedPeers().length,
      topics: topics.count,
      storeBytes: journal.bytesWritten,
      busBytes: bus?.bytes ?? 0,
      pending: topics.pending,
      writes: topics.writes,
      uptimeSeconds: (Date.now() - started) / 1000,
    });
    server.on(
      "request",
      httpHandler(
        {
          id,
          get draining() {
            return draining;
          },
          redis: bus !== undefined,
          metrics,
        },
        opts.staticDir,
      ),
    );
    await peer.listen({ server, origins: opts.origins });
    const addr = await listen(server, host, port);
    const shownHost = host.includes(":") ? `[${host}]` : host;
    let closing: Promise<void> | null = null;
    return {
      id,
      peer,
      url: `ws://${shownHost}:${addr.port}/`,
      httpUrl: `http://${shownHost}:${addr.port}/`,
      port: addr.port,
      metrics,
      store: (topic) => topics.store(topic),
      close() {
        closing ??= (async () => {
          draining = true;
          // stop accepting, then drop the links: no new write can arrive after this
          const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          await p.close();
          server.closeAllConnections();
          await stopped;
          // every accepted write reaches the disk and Redis before they close
          await topics.close();
          await bus?.close();
          await journal.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await peer?.close().catch(() => {});
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await bus?.close().catch(() => {});
    await journal.close().catch(() => {});
    throw e;
  }
}
