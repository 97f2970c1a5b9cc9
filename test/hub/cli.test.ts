import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createContext, signal } from "spindel";
import { Peer } from "spindel/distributed";
import { afterEach, describe, expect, it } from "vitest";
import { HUB_USAGE, parseHubArgs } from "../../src/distributed/hub/cli.js";
import { syncSignal } from "../../src/distributed/sync/signal-sync.js";
import { until } from "../distributed/helpers.js";
import { killAll, spawnHub } from "./process.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await killAll();
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), "spindel-cli-"));
  cleanup.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function client(id: string, url: string, credential?: string) {
  const ctx = createContext({ name: id });
  const peer = await Peer.connect({ id, url, context: ctx, credential });
  cleanup.push(() => peer.close());
  return { ctx, peer };
}

describe("spindel hub: flags", () => {
  it("parses every flag, with defaults", () => {
    const dir = tmp();
    const tokens = path.join(dir, "tokens");
    writeFileSync(tokens, "# clients\nalpha\n\nbeta\n");
    const a = parseHubArgs(
      [
        "--port=9000",
        "--host",
        "0.0.0.0",
        "--store",
        "data",
        "--redis",
        "redis://127.0.0.1:6379",
        "--redis-max-len",
        "500",
        "--absent-recheck-ms",
        "250",
        "--auth-token-file",
        tokens,
        "--origin",
        "https://app.example.com/",
        "--origin",
        "http://localhost:5173",
        "--id",
        "hub-1",
        "--static",
        dir,
        "--import",
        "./x.js",
        "-q",
      ],
      dir,
    );
    expect(a).toEqual({
      help: false,
      quiet: true,
      imports: [path.join(dir, "x.js")],
      options: {
        port: 9000,
        host: "0.0.0.0",
        store: path.join(dir, "data"),
        redis: "redis://127.0.0.1:6379",
        redisMaxLen: 500,
        absentRecheckMs: 250,
        tokens: ["alpha", "beta"],
        origins: ["https://app.example.com", "http://localhost:5173"],
        id: "hub-1",
        staticDir: dir,
      },
    });
    expect(parseHubArgs([], dir).options).toEqual({ store: path.join(dir, "spindel-data") });
    expect(parseHubArgs(["--help"], dir).help).toBe(true);
    for (const flag of [
      "--port",
      "--store",
      "--redis",
      "--auth-token-file",
      "--origin",
      "--static",
      "--import",
    ])
      expect(HUB_USAGE).toContain(flag);
  });

  it.each([
    [["--port", "abc"], /--port needs a whole number/],
    [["--port", "70000"], /--port must be between 0 and 65535/],
    [["--port"], /--port needs a value/],
    [["--prot", "80"], /unknown flag --prot/],
    [["extra"], /unexpected argument 'extra'/],
    [["--redis", "localhost:6379"], /--redis needs a redis:\/\/host:port URL/],
    [["--auth-token-file", "/nonexistent/tokens"], /cannot read it/],
    [["--static", "/nonexistent/dir"], /is not a directory/],
    [["--origin", "not an origin"], /--origin needs an origin/],
    [["--store", ""], /--store needs a non-empty value/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseHubArgs(argv as string[], tmp())).toThrow(message);
    try {
      parseHubArgs(argv as string[], tmp());
    } catch (e) {
      expect((e as { code: string }).code).toBe("ERR_BAD_FLAG");
    }
  });
});

describe("spindel hub: the process", () => {
  it("serves, shuts down on SIGTERM, and a restart on the same store has all state back", async () => {
    const store = path.join(tmp(), "data");
    let hub = spawnHub(["--port", "0", "--store", store, "--id", "hub-a"]);
    let { url, httpUrl } = await hub.started;
    const health = await fetch(new URL("/health", httpUrl));
    expect(await health.json()).toMatchObject({ status: "ok", id: "hub-a" });
    const a = await client("a", url);
    const sa = signal<{ items: string[] } | null>(null);
    const ha = syncSignal(a.peer, "todos", sa, { context: a.ctx });
    await ha.ready;
    for (let i = 0; i < 50; i++) a.ctx.set(sa, { items: Array.from({ length: i + 1 }, (_, j) => `t${j}`) });
    // writes of one tick go out as one publish (a microtask later), counted in `pending` from then
    await new Promise((r) => setImmediate(r));
    // acknowledged by the hub: on its disk
    await until(a.ctx, ha.pending, (n) => n === 0, 15_000);
    hub.kill("SIGTERM");
    expect(await hub.exited).toBe(0);
    expect(hub.output()).toMatch(/SIGTERM, shutting down[\s\S]*stopped/);
    hub = spawnHub(["--port", "0", "--store", store, "--id", "hub-a"]);
    ({ url } = await hub.started);
    const b = await client("b", url);
    const sb = signal<{ items: string[] } | null>(null);
    const hb = syncSignal(b.peer, "todos", sb, { context: b.ctx });
    await hb.ready;
    const v = await until(b.ctx, sb, (x) => x !== null, 15_000);
    expect(v?.items.length).toBe(50);
    hub.kill("SIGINT");
    expect(await hub.exited).toBe(0);
  }, 60_000);

  it("bad flags exit 2 with the reason; --help exits 0", async () => {
    const h = spawnHub(["--port", "nope"]);
    expect(await h.exited).toBe(2);
    expect(h.output()).toMatch(/spindel hub: --port needs a whole number, got 'nope'/);
    const help = spawnHub(["--help"]);
    expect(await help.exited).toBe(0);
    expect(help.output()).toContain("Usage: spindel hub");
  }, 60_000);

  it("a busy port and a store held by another hub exit 1 with a clear message", async () => {
    const store = path.join(tmp(), "data");
    const first = spawnHub(["--port", "0", "--store", store]);
    const { url } = await first.started;
    const port = new URL(url).port;
    const busy = spawnHub(["--port", port, "--store", path.join(tmp(), "other")]);
    expect(await busy.exited).toBe(1);
    expect(busy.output()).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    const locked = spawnHub(["--port", "0", "--store", store]);
    expect(await locked.exited).toBe(1);
    expect(locked.output()).toMatch(/is in use by another process/);
  }, 60_000);

  it("with --auth-token-file only clients with a token get in", async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, "tokens"), "s3cret\n");
    const hub = spawnHub([
      "--port",
      "0",
      "--store",
      path.join(dir, "data"),
      "--auth-token-file",
      path.join(dir, "tokens"),
    ]);
    const { url } = await hub.started;
    await expect(Peer.connect({ id: "intruder", url, credential: "wrong" })).rejects.toMatchObject({
      code: "ERR_UNAUTHORIZED",
    });
    const ok = await client("friend", url, "s3cret");
    expect(ok.peer.connectedPeers()).toEqual(["hub"]);
  }, 60_000);
});
