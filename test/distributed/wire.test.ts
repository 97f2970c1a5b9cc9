/**
 * The wire: the pre-decode structure check, frame validation, and a listener fed malformed,
 * oversized, unknown and random frames through raw `ws` clients — it answers with errors or
 * closes with a reason, keeps serving everyone else, and nothing throws unhandled.
 */
import { once } from "node:events";
import fc from "fast-check";
import { createContext, type SpinScope } from "spindel";
import { DEFAULT_LIMITS, invokeRemote, Peer, type RemoteError } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { decodeCbor, encodeCbor } from "../../src/core/persist/codec.js";
import { checkCbor, resolveLimits, type WireLimits } from "../../src/distributed/limits.js";
import { decodeFrame, encodeFrame, type Frame, PROTOCOL_VERSION } from "../../src/distributed/wire.js";
import { client, defineRemote, gate, handFrame, hub, RawClient, rejection, within } from "./helpers.js";

const add = defineRemote(["x", "y"], (x, y) => () => (x as number) + (y as number), "add");
const hold = gate<void>();
const held = defineRemote([], () => async ($: SpinScope) => $.await(hold.promise), "held");

const limits = (o: Partial<WireLimits> = {}): WireLimits => resolveLimits(o);
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

function checkError(b: Uint8Array, l = limits()): { code: string; message: string } {
  try {
    checkCbor(b, l);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected checkCbor to throw");
}

describe("checkCbor", () => {
  test("accepts everything the shared codec encodes (property)", () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.constant(null),
        fc.constant(undefined),
        fc.boolean(),
        fc.integer(),
        fc.double(),
        fc.string(),
        fc.bigInt(),
        fc.date({ noInvalidDate: true }),
        fc.uint8Array({ maxLength: 8 }),
        fc.array(tie("v"), { maxLength: 4 }),
        fc.dictionary(fc.string(), tie("v"), { maxKeys: 4 }),
        fc.array(fc.tuple(tie("v"), tie("v")), { maxLength: 3 }).map((es) => new Map(es)),
        fc.array(tie("v"), { maxLength: 3 }).map((xs) => new Set(xs)),
      ),
    })).v;
    fc.assert(
      fc.property(value, (v) => {
        checkCbor(encodeCbor(v), limits({ maxBigIntBytes: 64 }));
      }),
      { numRuns: 300 },
    );
    checkCbor(encodeCbor(new Float32Array([1, 2])), limits());
    checkCbor(encodeCbor([new Error("boom"), /re/g]), limits());
  });

  test("rejects malformed CBOR with ERR_PROTOCOL", () => {
    const cases: [Uint8Array, RegExp][] = [
      [bytes(), /empty/],
      [bytes(0x82, 0x01), /past the end/],
      [bytes(0x01, 0x02), /trailing/],
      [bytes(0x1c), /reserved/],
      [bytes(0xff), /break/],
      [bytes(0x9f, 0x01), /truncated/],
      [bytes(0xbf, 0x01, 0xff), /odd number/],
      [bytes(0x7f, 0x61, 0x61, 0xff), /indefinite-length text strings are not supported/],
      [bytes(0x5f, 0x41, 0x61, 0xff), /indefinite-length byte strings are not supported/],
      [bytes(0x45, 0x01), /past the end/],
      [bytes(0x9a, 0x00, 0x00, 0x10, 0x00, 0x00), /past the end/],
      [bytes(0xf0), /simple value/],
      [bytes(0xf8, 0x20), /simple value/],
      [bytes(0xfb, 0x00), /truncated/],
      [bytes(0xd8, 0x1c, 0x01), /unsupported tag 28/], // shared reference
      [bytes(0xd9, 0xdf, 0xff, 0x80), /unsupported tag 57343/], // cbor-x record definition
      [bytes(0xd8, 0x33, 0x80), /unsupported tag 51/], // packed values
      [bytes(0xc1, 0x61, 0x61), /tag 1 expects a number/],
      [bytes(0xc2, 0x01), /byte string/],
      [bytes(0xd9, 0x01, 0x02, 0x01), /tag 258 expects an array/],
      [bytes(0xd9, 0x01, 0x03, 0x80), /tag 259 expects a map/],
      [bytes(0xd8, 0x1b, 0x81, 0x61, 0x61), /tag 27/],
      [bytes(0xd8, 0x1b, 0x82, 0x01, 0x02), /tag 27/],
    ];
    for (const [b, re] of cases) {
      const e = checkError(b);
      expect(e.code, `${Buffer.from(b).toString("hex")}`).toBe("ERR_PROTOCOL");
      expect(e.message, `${Buffer.from(b).toString("hex")}`).toMatch(re);
    }
  });

  test("enforces depth, container length, item count, bignum size and frame size with ERR_LIMIT", () => {
    const deep = new Uint8Array(100).fill(0x81);
    const deepFrame = new Uint8Array([...deep, 0x01]);
    expect(checkError(deepFrame)).toMatchObject({
      code: "ERR_LIMIT",
      message: expect.stringMatching(/maxDepth 64/),
    });
    checkCbor(deepFrame, limits({ maxDepth: 101 }));
    expect(checkError(encodeCbor(new Array(11).fill(0)), limits({ maxContainerLength: 10 }))).toMatchObject({
      code: "ERR_LIMIT",
    });
    expect(checkError(encodeCbor({ a: 1, b: 2, c: 3 }), limits({ maxContainerLength: 2 }))).toMatchObject({
      code: "ERR_LIMIT",
    });
    expect(checkError(encodeCbor([[1, 2], [3, 4], [5]]), limits({ maxItems: 6 }))).toMatchObject({
      code: "ERR_LIMIT",
      message: expect.stringMatching(/maxItems/),
    });
    expect(checkError(encodeCbor(2n ** 10_000n))).toMatchObject({
      code: "ERR_LIMIT",
      message: expect.stringMatching(/bignum/),
    });
    expect(checkError(encodeCbor("x".repeat(100)), limits({ maxFrameBytes: 50 }))).toMatchObject({
      code: "ERR_LIMIT",
    });
    // a typed array is not a bignum: its size is bounded by the frame only
    checkCbor(encodeCbor(new Uint8Array(5000)), limits());
  });

  test("the defaults are sane and invalid limits are refused", () => {
    expect(DEFAULT_LIMITS.maxFrameBytes).toBe(1024 * 1024);
    expect(() => resolveLimits({ maxDepth: 0 })).toThrow(/positive integer/);
    expect(() => resolveLimits({ maxDepth: 1.5 })).toThrow(/positive integer/);
    expect(() => resolveLimits({ nope: 1 } as unknown as Partial<WireLimits>)).toThrow(/unknown wire limit/);
    // a value `String()` cannot show (it threw a TypeError from the message before the RangeError)
    const odd = { maxDepth: Object.create(null) } as unknown as Partial<WireLimits>;
    expect(() => resolveLimits(odd)).toThrow(RangeError);
    expect(() => resolveLimits(odd)).toThrow(/got a value of type object/);
  });
});

describe("frames", () => {
  test("encode/decode round trip and shape validation", () => {
    const l = limits();
    const invoke = {
      type: "invoke",
      id: 3,
      fn: "m:f:0",
      args: [new Map([[1, 2]]), "b"],
      ctx: "p1",
      hash: "h",
      timeoutMs: 50,
    } as const;
    expect(decodeFrame(encodeFrame(invoke), l)).toEqual(invoke);
    // positional: no key strings on the wire, optional fields in the middle are null
    expect(decodeCbor(encodeFrame(invoke))).toEqual([2, 3, "m:f:0", [new Map([[1, 2]]), "b"], "p1", "h", 50]);
    expect(decodeCbor(encodeFrame({ type: "invoke", id: 4, fn: "f", args: [], timeoutMs: 9 }))).toEqual([
      2,
      4,
      "f",
      [],
      null,
      null,
      9,
    ]);
    const others: Frame[] = [
      { type: "hello", v: 2, peer: "p" },
      { type: "hello", v: 2, peer: "p", credential: null },
      { type: "result", id: 1, value: null },
      { type: "cancel", id: 1 },
      { type: "ping" },
      { type: "pong" },
      { type: "error", code: "ERR_PROTOCOL", name: "RemoteError", message: "m" },
      {
        type: "error",
        id: 3,
        code: "ERR_REMOTE_THROWN",
        name: "E",
        message: "m",
        data: null,
        remoteCode: "X",
      },
    ];
    for (const f of others) expect(decodeFrame(encodeFrame(f), l)).toEqual(f);
    const bad: [unknown, RegExp, number | undefined][] = [
      [{ type: "invoke" }, /unsupported protocol version 1/, undefined],
      [new Map([["type", "invoke"]]), /CBOR array/, undefined],
      [[], /CBOR array/, undefined],
      [["invoke", 1, "f", []], /unknown frame type "invoke"/, undefined],
      [[42], /unknown frame type 42/, undefined],
      [[1, 1], /peer/, undefined],
      [[2, 0, "f", []], /"id"/, undefined],
      [[2, 5, "", []], /"fn"/, 5],
      [[2, 5, "f", { a: 1 }], /"args"/, 5],
      [[2, 5, "f", [], null, null, -1], /timeoutMs/, 5],
      [[2, 5, "f", [], 7], /"ctx"/, 5],
      [[3, 2 ** 40], /"id"/, undefined],
      [[4], /"id"/, undefined],
      [[5, "x", "E"], /"id"/, undefined],
    ];
    for (const [v, re, id] of bad) {
      let err: { code?: string; message?: string; requestId?: number } = {};
      try {
        decodeFrame(encodeCbor(v), l);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err.code, JSON.stringify(v)).toBe("ERR_PROTOCOL");
      expect(err.message).toMatch(re);
      expect(err.requestId).toBe(id);
    }
  });
});

describe("a listener under malformed input", () => {
  test("text frames, unknown types and bad invokes get error replies; the link stays usable", async () => {
    const reports: string[] = [];
    const { peer: h } = await hub({ onError: (_e, where) => reports.push(where) });
    const raw = await RawClient.open(h.url!);
    try {
      expect(await raw.hello("raw")).toMatchObject({ type: "hello", v: PROTOCOL_VERSION, peer: "hub" });
      let n = raw.frames.length;
      raw.sendRaw("hello as text");
      expect(await raw.next(n)).toMatchObject({
        type: "error",
        code: "ERR_PROTOCOL",
        message: expect.stringMatching(/text frames/),
      });
      n = raw.frames.length;
      raw.sendValue([99]);
      expect(await raw.next(n)).toMatchObject({
        type: "error",
        code: "ERR_PROTOCOL",
        message: expect.stringMatching(/unknown frame type/),
      });
      expect((await raw.next(n)).id).toBeUndefined();
      n = raw.frames.length;
      raw.send({ type: "invoke", id: 9, fn: add.id, args: "not an array" });
      expect(await raw.next(n)).toMatchObject({ type: "error", id: 9, code: "ERR_PROTOCOL" });
      n = raw.frames.length;
      raw.send({ type: "invoke", id: 10, fn: "no/such:fn:0", args: [] });
      expect(await raw.next(n)).toMatchObject({ type: "error", id: 10, code: "ERR_NO_FUNCTION" });
      n = raw.frames.length;
      raw.send({ type: "hello", v: 1, peer: "again" });
      expect(await raw.next(n)).toMatchObject({
        type: "error",
        code: "ERR_PROTOCOL",
        message: expect.stringMatching(/handshake/),
      });
      // a well-formed invoke by hand still works on the same link
      n = raw.frames.length;
      raw.send({ type: "invoke", id: 11, fn: add.id, args: [20, 22], hash: add.hash });
      expect(await raw.next(n)).toEqual({ type: "result", id: 11, value: 42 });
      // a result for an id no call awaits is counted as a protocol error; a cancel of an unknown id is not
      n = raw.frames.length;
      raw.send({ type: "result", id: 999, value: 1 });
      raw.send({ type: "cancel", id: 999 });
      raw.send({ type: "invoke", id: 12, fn: add.id, args: [1, 1], hash: add.hash });
      expect(await raw.next(n)).toEqual({ type: "result", id: 12, value: 2 });
      expect(raw.closed).toBeNull();
      expect(reports.filter((w) => w === "protocol").length).toBe(5);
    } finally {
      await raw.close();
    }
  });

  test("a duplicate request id and too many concurrent calls are refused per call", async () => {
    const { peer: h } = await hub({ limits: { maxInflightCalls: 2 } });
    const raw = await RawClient.open(h.url!);
    try {
      await raw.hello("raw");
      let n = raw.frames.length;
      raw.send({ type: "invoke", id: 1, fn: held.id, args: [], hash: held.hash });
      raw.send({ type: "invoke", id: 1, fn: held.id, args: [], hash: held.hash });
      expect(await raw.next(n)).toMatchObject({
        type: "error",
        id: 1,
        code: "ERR_PROTOCOL",
        message: expect.stringMatching(/already running/),
      });
      n = raw.frames.length;
      raw.send({ type: "invoke", id: 2, fn: held.id, args: [], hash: held.hash });
      raw.send({ type: "invoke", id: 3, fn: held.id, args: [], hash: held.hash });
      expect(await raw.next(n)).toMatchObject({
        type: "error",
        id: 3,
        code: "ERR_UNAVAILABLE",
        data: { reason: "overloaded" },
      });
      n = raw.frames.length;
      hold.resolve();
      const a = await raw.next(n);
      const b = await raw.next(n + 1);
      expect([a, b].map((f) => f.id).sort()).toEqual([1, 2]);
      expect([a.type, b.type]).toEqual(["result", "result"]);
    } finally {
      await raw.close();
    }
  });

  test("a frame before hello, a bad protocol version, too many bad frames: closed with a reason", async () => {
    const { peer: h } = await hub();
    const early = await RawClient.open(h.url!);
    early.send({ type: "invoke", id: 1, fn: add.id, args: [1, 2], hash: add.hash });
    expect(await early.next(0)).toMatchObject({
      type: "error",
      code: "ERR_PROTOCOL",
      message: expect.stringMatching(/expected a hello/),
    });
    expect(await early.whenClosed()).toMatchObject({
      code: 1002,
      reason: expect.stringMatching(/expected a hello/),
    });

    const garbage = await RawClient.open(h.url!);
    garbage.sendRaw(new Uint8Array([0xff, 0xfe, 0xfd]));
    expect(await garbage.whenClosed()).toMatchObject({
      code: 1002,
      reason: expect.stringMatching(/malformed CBOR/),
    });

    const future = await RawClient.open(h.url!);
    future.send({ type: "hello", v: 99, peer: "future" });
    expect(await future.next(0)).toMatchObject({
      type: "error",
      message: expect.stringMatching(/protocol version 99/),
    });
    expect((await future.whenClosed()).code).toBe(1002);

    const noisy = await RawClient.open(h.url!);
    await noisy.hello("noisy");
    for (let i = 0; i <= DEFAULT_LIMITS.maxProtocolErrors; i++) noisy.sendRaw(new Uint8Array([0x1c]));
    expect(await noisy.whenClosed()).toMatchObject({ code: 1002, reason: "too many malformed frames" });
    expect(h.isConnected("noisy")).toBe(false);
  });

  test("a frame over twice maxFrameBytes closes the link with 1009; a structure over the limits gets ERR_LIMIT for its id", async () => {
    const { peer: h } = await hub({ limits: { maxFrameBytes: 4096, maxDepth: 8 } });
    const big = await RawClient.open(h.url!);
    await big.hello("big");
    big.send({ type: "invoke", id: 1, fn: add.id, args: ["x".repeat(10_000), 1] });
    expect((await big.whenClosed()).code).toBe(1009);

    const deep = await RawClient.open(h.url!);
    await deep.hello("deep");
    const n = deep.frames.length;
    deep.send({ type: "invoke", id: 1, fn: add.id, args: [[[[[[[[[[1]]]]]]]]], 1] });
    expect(await deep.next(n)).toMatchObject({
      type: "error",
      id: 1,
      code: "ERR_LIMIT",
      message: expect.stringMatching(/maxDepth 8/),
    });
    expect(deep.closed).toBeNull();
    await deep.close();
  });

  test("fuzz: random bytes and random CBOR from raw clients; the listener stays up and other clients are unaffected", async () => {
    const reports: unknown[] = [];
    const { peer: h } = await hub({ onError: (e) => reports.push(e), limits: { maxProtocolErrors: 4 } });
    const good = await client(h.url!, { id: "good" });
    const ctx = createContext();
    const server = good.remote("hub");
    // a steady stream of real calls while the fuzzers hammer the listener
    let stop = false;
    let answered = 0;
    const steady = (async () => {
      for (let i = 0; !stop && i < 100_000; i++) {
        expect(await ctx.value(invokeRemote(add, server, [i, 1]))).toBe(i + 1);
        answered++;
      }
    })();

    const validInvoke = encodeCbor({
      type: "invoke",
      id: 1,
      fn: add.id,
      args: [1, 2],
      hash: add.hash,
    });
    const anyCbor = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: false,
      withObjectString: true,
    });
    const frame = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 64 }).map((b) => ({ kind: "bytes", data: b })),
      anyCbor.map((v) => ({ kind: "cbor", data: encodeCbor(v) })),
      anyCbor.map((v) => ({
        kind: "frame-ish",
        data: handFrame({ type: "invoke", id: 5, fn: add.id, args: v }),
      })),
      fc.tuple(fc.nat(validInvoke.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
        const m = new Uint8Array(validInvoke);
        m[i] = b;
        return { kind: "mutated", data: m };
      }),
      fc.string({ maxLength: 20 }).map((s) => ({ kind: "text", data: s })),
    );
    let replies = 0;
    let closes = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(frame, { minLength: 1, maxLength: 8 }),
        async (sayHello, frames) => {
          const raw = await RawClient.open(h.url!);
          try {
            if (sayHello) await raw.hello(`fuzz-${replies}-${closes}`);
            for (const f of frames) {
              if (raw.closed !== null) break;
              raw.sendRaw(f.data as Uint8Array | string);
            }
            // a sentinel to know the listener processed everything (or the link closed)
            const n = raw.frames.length;
            if (raw.closed === null) raw.sendRaw(new Uint8Array([0x1c]));
            try {
              await raw.next(n, 2_000);
            } catch {
              // closed: fine, as long as it was closed with a code
            }
            for (const f of raw.frames.slice(sayHello ? 1 : 0)) {
              const t = (f as { type?: string }).type;
              expect(["error", "result"]).toContain(t);
            }
            replies += raw.frames.length;
            if (raw.closed !== null) {
              closes++;
              expect(raw.closed.code).toBeGreaterThanOrEqual(1000);
            }
          } finally {
            await raw.close();
          }
        },
      ),
      { numRuns: 120 },
    );
    stop = true;
    await within(steady, 10_000, "steady calls");
    expect(answered).toBeGreaterThan(0);
    expect(replies).toBeGreaterThan(0);
    expect(reports.length).toBeGreaterThan(0);
    // the listener still accepts new peers and answers them
    const late = await client(h.url!, { id: "late" });
    expect(await ctx.value(invokeRemote(add, late.remote("hub"), [2, 3]))).toBe(5);
    expect(good.isConnected("hub")).toBe(true);
  });

  test("a raw client pretending to be a listener cannot crash a dialer", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    wss.on("connection", (ws) => {
      ws.on("message", () => {
        ws.send(new Uint8Array([0xd8, 0x1c, 0x01])); // a forbidden tag instead of hello
      });
    });
    try {
      const port = (wss.address() as { port: number }).port;
      const e = await rejection(Promise.resolve().then(() => client(`ws://127.0.0.1:${port}`)));
      expect((e as { code?: string }).code).toBe("ERR_UNAVAILABLE");
      expect(e.message).toMatch(/unsupported tag 28/);
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    }
  });
});

describe("heartbeat frames", () => {
  test("a ping frame (what a browser sends, having no WebSocket pings) is answered with a pong frame", async () => {
    const { peer: h } = await hub();
    const raw = await RawClient.open(h.url!);
    try {
      await raw.hello("pinger");
      const n = raw.frames.length;
      raw.send({ type: "ping" });
      expect(await raw.next(n)).toEqual({ type: "pong" });
      expect(decodeCbor(raw.rawFrames[n]!)).toEqual([7]);
    } finally {
      await raw.close();
    }
  });
});

describe("protocol versions", () => {
  /** A listener that answers every hello with `answer` (bytes), then optionally closes with 1002. */
  async function fakeListener(answer: (ws: import("ws").WebSocket) => void) {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
    await once(wss, "listening");
    let connections = 0;
    wss.on("connection", (ws) => {
      connections++;
      ws.once("message", () => answer(ws));
    });
    return {
      url: `ws://127.0.0.1:${(wss.address() as import("node:net").AddressInfo).port}`,
      connections: () => connections,
      async close() {
        for (const ws of wss.clients) ws.terminate();
        await new Promise<void>((r) => wss.close(() => r()));
      },
    };
  }

  /** Dial `listener` with reconnect on: one attempt, rejected with ERR_PROTOCOL matching `message`. */
  async function expectFinalRefusal(
    listener: Awaited<ReturnType<typeof fakeListener>>,
    message: RegExp,
  ): Promise<void> {
    try {
      const e = (await within(
        rejection(Peer.connect({ id: "dialer", url: listener.url, reconnect: { initialDelayMs: 1 } })),
        5_000,
        "connect",
      )) as unknown as RemoteError;
      expect(e.code).toBe("ERR_PROTOCOL");
      expect(e.message).toMatch(message);
      expect(listener.connections()).toBe(1);
    } finally {
      await listener.close();
    }
  }

  test("a protocol 1 dialer is told, in its own layout, why it is refused", async () => {
    const { peer: h } = await hub();
    const raw = await RawClient.open(h.url!);
    raw.sendValue({ type: "hello", v: 1, peer: "old" }); // protocol 1: a CBOR map
    expect(await raw.next(0)).toMatchObject({
      type: "error",
      code: "ERR_PROTOCOL",
      message: expect.stringMatching(/unsupported protocol version 1.*protocol 2/),
    });
    // in the protocol 1 layout: a CBOR map, which the old peer can read
    expect(decodeCbor(raw.rawFrames[0]!)).toMatchObject({ type: "error", code: "ERR_PROTOCOL" });
    expect((await raw.whenClosed()).code).toBe(1002);
  });

  test("a dialer meeting a protocol 1 listener fails once with ERR_PROTOCOL and does not retry", async () => {
    // what a protocol 1 listener answers a hello it cannot read: a map error frame, then 1002
    const old = await fakeListener((ws) => {
      ws.send(
        encodeCbor({
          type: "error",
          code: "ERR_PROTOCOL",
          name: "RemoteError",
          message: "a frame must be a CBOR map",
        }),
      );
      ws.close(1002, "expected a hello frame first");
    });
    await expectFinalRefusal(old, /unsupported protocol version 1/);
  });

  test("a dialer meeting a listener of a newer version fails once with ERR_PROTOCOL and does not retry", async () => {
    const future = await fakeListener((ws) => ws.send(encodeCbor([1, PROTOCOL_VERSION + 1, "future"])));
    await expectFinalRefusal(future, new RegExp(`unsupported protocol version ${PROTOCOL_VERSION + 1}`));
  });
});
