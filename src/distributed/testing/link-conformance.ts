/**
 * The conformance suite every {@link Link} adapter passes. It takes the test runner's `describe`
 * and `it` (vitest, node:test, …) and a factory of connected pairs, so an adapter's own test is a
 * few lines:
 *
 * ```ts
 * linkConformance("memory", async () => { const [a, b] = new SimNetwork().pair(); return { a, b, async dispose() {} }; }, { describe, it });
 * ```
 * @module
 */
import type { Link, LinkEvents } from "../net/link.js";

/** Two open links, each the other's remote end, not started yet. */
export interface LinkPair {
  /** One end. */
  readonly a: Link;
  /** The other end. */
  readonly b: Link;
  /** Release what the pair holds (servers, sockets). */
  dispose(): Promise<void>;
}

/** The part of a test runner the suite uses. */
export interface SuiteRunner {
  /** Group tests. */
  describe(name: string, body: () => void): void;
  /** One test (async bodies are awaited). */
  it(name: string, body: () => Promise<void>): void;
}

/** A recorded end: every event its link reported. */
interface Recorder {
  readonly messages: Uint8Array[];
  readonly texts: string[];
  closes: { code: number; reason: string }[];
  waitMessages(n: number): Promise<void>;
  waitClose(): Promise<{ code: number; reason: string }>;
}

const WAIT_MS = 5_000;

function record(link: Link): Recorder {
  const wake = new Set<() => void>();
  const r: Recorder = {
    messages: [],
    texts: [],
    closes: [],
    waitMessages: (n) => until(() => r.messages.length >= n, `${n} messages`),
    waitClose: async () => {
      await until(() => r.closes.length > 0, "the close event");
      return r.closes[0]!;
    },
  };
  const poke = (): void => {
    for (const w of [...wake]) w();
  };
  function until(check: () => boolean, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        wake.delete(w);
        reject(new Error(`link conformance: ${what} did not arrive within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const w = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        wake.delete(w);
        resolve();
      };
      wake.add(w);
    });
  }
  const events: LinkEvents = {
    open: poke,
    message: (d) => {
      if (typeof d === "string") r.texts.push(d);
      else r.messages.push(d);
      poke();
    },
    pong: poke,
    error: poke,
    close: (code, reason) => {
      r.closes.push({ code, reason });
      poke();
    },
  };
  link.start(events);
  return r;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`link conformance: ${what}`);
}

function bytesOf(i: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let k = 0; k < n; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
}

function same(x: Uint8Array, y: Uint8Array): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Register the link conformance tests under `describe(name)`.
 * @param name the adapter's name
 * @param makePair a fresh connected pair per test
 * @param t the runner's `describe` and `it`
 */
export function linkConformance(name: string, makePair: () => Promise<LinkPair>, t: SuiteRunner): void {
  const withPair = async (body: (p: LinkPair, ra: Recorder, rb: Recorder) => Promise<void>) => {
    const p = await makePair();
    try {
      check(p.a.readyState === 1 && p.b.readyState === 1, "a fresh pair is open at both ends");
      await body(p, record(p.a), record(p.b));
    } finally {
      await p.dispose();
    }
  };

  t.describe(`link conformance: ${name}`, () => {
    t.it("messages arrive whole, once, in order, in both directions", () =>
      withPair(async ({ a, b }, ra, rb) => {
        const sizes = [0, 1, 17, 125, 126, 65_535, 65_536, 3, 200_000];
        for (const [i, n] of sizes.entries()) a.send(bytesOf(i, n));
        for (const [i, n] of sizes.entries()) b.send(bytesOf(i + 100, n));
        await rb.waitMessages(sizes.length);
        await ra.waitMessages(sizes.length);
        sizes.forEach((n, i) => {
          check(same(rb.messages[i]!, bytesOf(i, n)), `a→b message ${i} (${n} bytes) intact and in order`);
          check(
            same(ra.messages[i]!, bytesOf(i + 100, n)),
            `b→a message ${i} (${n} bytes) intact and in order`,
          );
        });
        check(rb.messages.length === sizes.length && ra.messages.length === sizes.length, "no duplicates");
        check(ra.texts.length === 0 && rb.texts.length === 0, "binary messages stay binary");
      }),
    );

    t.it("a sent buffer may be reused at once: the link does not alias it", () =>
      withPair(async ({ a }, _ra, rb) => {
        const buf = bytesOf(1, 64);
        a.send(buf);
        buf.fill(0);
        await rb.waitMessages(1);
        check(same(rb.messages[0]!, bytesOf(1, 64)), "the message is what was sent, not the reused buffer");
      }),
    );

    t.it("close(code, reason) is reported at both ends, once, with that code and reason", () =>
      withPair(async ({ a, b }, ra, rb) => {
        a.send(bytesOf(7, 10));
        a.close(4321, "bye now");
        const atB = await rb.waitClose();
        const atA = await ra.waitClose();
        check(
          atB.code === 4321 && atB.reason === "bye now",
          `the remote sees 4321 "bye now", got ${atB.code} "${atB.reason}"`,
        );
        check(atA.code === 4321, `the closing end sees 4321, got ${atA.code}`);
        check(rb.messages.length === 1, "a message sent before close arrives before the close");
        check(a.readyState === 3 && b.readyState === 3, "both ends are closed");
        a.close(1000, "again");
        a.send(bytesOf(8, 10));
        b.send(bytesOf(9, 10));
        await new Promise((r) => setTimeout(r, 0));
        check(ra.closes.length === 1 && rb.closes.length === 1, "close is reported once");
        check(ra.messages.length === 0, "nothing arrives after close");
      }),
    );

    t.it("terminate() reports 1006 locally and closes the remote", () =>
      withPair(async ({ a }, ra, rb) => {
        a.terminate();
        const atA = await ra.waitClose();
        check(atA.code === 1006, `the terminating end sees 1006, got ${atA.code}`);
        const atB = await rb.waitClose();
        check(atB.code === 1006 || atB.code === 1005 || atB.code >= 1000, "the remote end learns it closed");
      }),
    );

    t.it("bufferedAmount is a number that drains, and flush() is safe to call any time", () =>
      withPair(async ({ a }, _ra, rb) => {
        for (let i = 0; i < 50; i++) a.send(bytesOf(i, 1000));
        a.flush();
        a.flush();
        await rb.waitMessages(50);
        check(
          typeof a.bufferedAmount === "number" && a.bufferedAmount >= 0,
          "bufferedAmount is a count of bytes",
        );
      }),
    );
  });
}
