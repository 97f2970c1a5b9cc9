/**
 * `spindel hub`: the hub as a command. Parses flags (clear errors for bad ones), starts the hub,
 * prints where it listens, and shuts down in order on SIGINT/SIGTERM.
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { HubError } from "./errors.js";
import { type Hub, type HubOptions, startHub } from "./hub.js";

/** The `--help` text. */
export const HUB_USAGE = `Usage: spindel hub [options]

Runs a hub: a listening peer that owns every topic a client opens (signal sync),
keeps it in a durable store, and with --redis shares topics with other hubs.

Options:
  --port N              TCP port (default 8080; 0 picks a free one)
  --host H              address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --store DIR           store directory, LevelDB (default ./spindel-data; created if missing)
  --redis URL           redis://host:port — share topics with the other hubs on this Redis
                        (one stream per topic; hubs append and read each other's writes)
  --redis-max-len N     approximate cap of each topic's Redis stream (default 10000)
  --absent-recheck-ms N with --redis: how long a topic found empty is not read from its stream
                        again when a mirror asks for it (default 2000)
  --auth-token-file F   clients must send one of the tokens in F (one per line) as their
                        credential; without it every client is accepted
  --origin O            allow browser pages from origin O (repeatable; default: any origin)
  --id ID               the hub's peer id (default "hub"; each hub on one Redis needs its own)
  --static DIR          serve the files in DIR over HTTP (e.g. a built web app)
  --import MODULE       import MODULE first (repeatable): an application's datatypes register
                        their CBOR codecs there, so the hub can decode and join their values
  -q, --quiet           print nothing but errors
  -h, --help            this text

HTTP on the same port:
  GET /health           200 {"status":"ok",...} while serving, 503 while shutting down
  GET /metrics          Prometheus text: connections, topics, bytes, pending writes
  WebSocket upgrades    clients (Peer.connect({ url: "ws://host:port/" }))

SIGINT/SIGTERM: stops accepting, writes every acknowledged write to disk and Redis, exits 0.
Exit codes: 0 after a clean shutdown, 2 for bad flags, 1 when the hub cannot start.
`;

/** What {@link parseHubArgs} returns. */
export interface HubArgs {
  /** `-h`/`--help` was given. */
  readonly help: boolean;
  /** `-q`/`--quiet` was given. */
  readonly quiet: boolean;
  /** The hub's options (token file already read). */
  readonly options: HubOptions;
  /** Modules to import before the hub starts (absolute paths or package names). */
  readonly imports: readonly string[];
}

const bad = (msg: string): never => {
  throw new HubError("ERR_BAD_FLAG", `${msg} (see spindel hub --help)`);
};

function integer(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v)) bad(`${flag} needs a whole number, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) bad(`${flag} must be between ${min} and ${max}, got ${v}`);
  return n;
}

/** Parses `spindel hub` flags (relative paths against `cwd`). Throws `HubError` `ERR_BAD_FLAG`. */
export function parseHubArgs(argv: readonly string[], cwd: string = process.cwd()): HubArgs {
  const o: {
    -readonly [K in keyof HubOptions]: HubOptions[K];
  } = {};
  const origins: string[] = [];
  let help = false;
  let quiet = false;
  const valued = new Set([
    "--port",
    "--host",
    "--store",
    "--redis",
    "--redis-max-len",
    "--absent-recheck-ms",
    "--auth-token-file",
    "--origin",
    "--id",
    "--static",
    "--import",
  ]);
  const imports: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i] as string;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (arg === "-h" || arg === "--help") {
      help = true;
      continue;
    }
    if (arg === "-q" || arg === "--quiet") {
      quiet = true;
      continue;
    }
    if (!valued.has(arg)) bad(arg.startsWith("-") ? `unknown flag ${arg}` : `unexpected argument '${arg}'`);
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) bad(`${arg} needs a value`);
      value = next as string;
      i++;
    }
    if (value === "") bad(`${arg} needs a non-empty value`);
    switch (arg) {
      case "--port":
        o.port = integer(arg, value, 0, 65_535);
        break;
      case "--host":
        o.host = value;
        break;
      case "--store":
        o.store = path.resolve(cwd, value);
        break;
      case "--redis":
        try {
          const u = new URL(value);
          if (u.protocol !== "redis:" && u.protocol !== "rediss:") throw new Error("scheme");
        } catch {
          bad(`--redis needs a redis://host:port URL, got '${value}'`);
        }
        o.redis = value;
        break;
      case "--redis-max-len":
        o.redisMaxLen = integer(arg, value, 1, 1_000_000_000);
        break;
      case "--absent-recheck-ms":
        o.absentRecheckMs = integer(arg, value, 0, 86_400_000);
        break;
      case "--auth-token-file": {
        const file = path.resolve(cwd, value);
        let text: string;
        try {
          text = readFileSync(file, "utf8");
        } catch (e) {
          return bad(
            `--auth-token-file ${value}: cannot read it (${(e as NodeJS.ErrnoException).code ?? e})`,
          );
        }
        const tokens = text
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l !== "" && !l.startsWith("#"));
        if (tokens.length === 0) bad(`--auth-token-file ${value} has no token (one per line)`);
        o.tokens = tokens;
        break;
      }
      case "--origin":
        try {
          origins.push(new URL(value).origin);
        } catch {
          bad(`--origin needs an origin like https://app.example.com, got '${value}'`);
        }
        break;
      case "--import":
        imports.push(value.startsWith(".") || path.isAbsolute(value) ? path.resolve(cwd, value) : value);
        break;
      case "--id":
        if (value.length > 256) bad("--id is at most 256 characters");
        o.id = value;
        break;
      case "--static": {
        const dir = path.resolve(cwd, value);
        let isDir = false;
        try {
          isDir = statSync(dir).isDirectory();
        } catch {
          /* reported below */
        }
        if (!isDir) bad(`--static ${value} is not a directory`);
        o.staticDir = dir;
        break;
      }
    }
  }
  if (origins.length > 0) o.origins = origins;
  o.store ??= path.resolve(cwd, "spindel-data");
  return { help, quiet, options: o, imports };
}

/** Where the command writes and how it learns about signals (injectable for tests). */
export interface HubIo {
  out(line: string): void;
  err(line: string): void;
  cwd: string;
  /** Subscribe to shutdown signals; returns the unsubscribe. */
  onSignal(handler: (signal: string) => void): () => void;
}

/** The process's own IO. */
export function processIo(): HubIo {
  return {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    cwd: process.cwd(),
    onSignal(handler) {
      process.on("SIGINT", handler);
      process.on("SIGTERM", handler);
      return () => {
        process.off("SIGINT", handler);
        process.off("SIGTERM", handler);
      };
    },
  };
}

/**
 * Runs `spindel hub <argv>`: resolves with the exit code once the hub has shut down (or failed
 * to start). A second signal during shutdown exits at once with 1.
 */
export async function hubMain(argv: readonly string[], io: HubIo = processIo()): Promise<number> {
  let args: HubArgs;
  try {
    args = parseHubArgs(argv, io.cwd);
  } catch (e) {
    io.err(`spindel hub: ${(e as Error).message}`);
    return 2;
  }
  if (args.help) {
    io.out(HUB_USAGE);
    return 0;
  }
  const say = args.quiet ? () => {} : io.out;
  let hub: Hub;
  for (const m of args.imports) {
    try {
      await import(path.isAbsolute(m) ? pathToFileURL(m).href : m);
    } catch (e) {
      io.err(`spindel hub: --import ${m}: ${(e as Error).message}`);
      return 1;
    }
  }
  try {
    hub = await startHub({
      ...args.options,
      onError: (e, where) => {
        if (!args.quiet) io.err(`spindel hub: ${where}: ${(e as Error)?.message ?? String(e)}`);
      },
    });
  } catch (e) {
    io.err(`spindel hub: ${(e as Error).message}`);
    return 1;
  }
  const o = args.options;
  say(`spindel hub '${hub.id}' listening on ${hub.url}`);
  say(`  store   ${o.store}`);
  if (o.redis !== undefined) say(`  redis   ${o.redis}`);
  if (o.tokens !== undefined) say(`  auth    ${o.tokens.length} token(s)`);
  if (o.staticDir !== undefined) say(`  serving ${o.staticDir} at ${hub.httpUrl}`);
  say(`  health  ${hub.httpUrl}health   metrics ${hub.httpUrl}metrics`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const off = io.onSignal((signal) => {
      if (stopping) {
        io.err(`spindel hub: ${signal} again, exiting without waiting`);
        off();
        resolve(1);
        return;
      }
      stopping = true;
      say(`spindel hub: ${signal}, shutting down`);
      hub.close().then(
        () => {
          off();
          say("spindel hub: stopped");
          resolve(0);
        },
        (e: unknown) => {
          off();
          io.err(`spindel hub: shutdown failed: ${(e as Error).message}`);
          resolve(1);
        },
      );
    });
  });
}
