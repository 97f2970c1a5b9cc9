/**
 * The per-peer deadline timer: many call deadlines, one timer. A fake clock drives it, so these
 * tests run in virtual time; one test runs a child process to check the timer lets Node exit.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { type DeadlineClock, Deadlines } from "../../src/distributed/deadlines.js";

/** A fake clock: timers fire only in `advance`, in time order. */
class FakeClock implements DeadlineClock {
  /** @param keepIdleTimer like the real clock: an idle timer stays armed, unref'd */
  constructor(readonly keepIdleTimer = false) {}
  t = 0;
  private timers: { at: number; fn: () => void; live: boolean; refed: boolean }[] = [];
  now(): number {
    return this.t;
  }
  set(ms: number, fn: () => void) {
    const timer = { at: this.t + ms, fn, live: true, refed: true };
    this.timers.push(timer);
    return {
      clear: () => {
        timer.live = false;
      },
      ref: () => {
        timer.refed = true;
      },
      unref: () => {
        timer.refed = false;
      },
    };
  }
  /** Timers pending (armed, not cleared, not fired). */
  get armed(): number {
    return this.timers.filter((x) => x.live).length;
  }
  /** Whether some pending timer holds the process open. */
  get holdsProcess(): boolean {
    return this.timers.some((x) => x.live && x.refed);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    this.timers = this.timers.filter((x) => x.live); // keep the fake cheap over long runs
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.t = due.at;
      due.live = false;
      due.fn();
    }
    this.t = end;
  }
}

describe("Deadlines", () => {
  test("deadlines fire at their time, in order, across durations; cleared ones never fire", () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    d.add(100, () => fired.push("a100"));
    const b = d.add(50, () => fired.push("b50"));
    clock.advance(10);
    d.add(20, () => fired.push("c20@10"));
    d.add(100, () => fired.push("d100@10"));
    b.clear();
    b.clear(); // idempotent
    clock.advance(19);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual(["c20@10"]);
    clock.advance(69); // t = 99
    expect(fired).toEqual(["c20@10"]);
    clock.advance(1);
    expect(fired).toEqual(["c20@10", "a100"]);
    clock.advance(10);
    expect(fired).toEqual(["c20@10", "a100", "d100@10"]);
    expect(d.live).toBe(0);
    expect(d.held).toBe(0);
    expect(clock.armed).toBe(0);
  });

  test("one timer serves many deadlines; it holds the process only while one is live", () => {
    const clock = new FakeClock(true);
    const d = new Deadlines(clock);
    const xs = Array.from({ length: 1000 }, () => d.add(30_000, () => {}));
    expect(clock.armed).toBe(1);
    expect(clock.holdsProcess).toBe(true);
    for (const x of xs) x.clear();
    expect(d.live).toBe(0);
    expect(d.held).toBe(0);
    expect(clock.holdsProcess).toBe(false);
    const y = d.add(30_000, () => {});
    expect(clock.holdsProcess).toBe(true);
    y.clear();
    expect(clock.holdsProcess).toBe(false);
    expect(clock.armed).toBe(1); // kept armed (unref'd): re-arming costs more
    // a clock without idle timers (virtual time): nothing stays armed once no deadline is live
    const virtual = new FakeClock(false);
    const v = new Deadlines(virtual);
    const z = v.add(30_000, () => {});
    expect(virtual.armed).toBe(1);
    z.clear();
    expect(virtual.armed).toBe(0);
    let fired = 0;
    v.add(10, () => fired++);
    virtual.advance(10);
    expect(fired).toBe(1);
  });

  test("memory stays proportional to live deadlines when calls finish out of order", () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const stuck = d.add(30_000, () => {}); // a long call at the head of the queue
    for (let i = 0; i < 100_000; i++) d.add(30_000, () => {}).clear();
    expect(d.live).toBe(1);
    expect(d.held).toBeLessThanOrEqual(2 + 1024 + 1);
    stuck.clear();
    expect(d.held).toBe(0);
  });

  test("calls finishing in order or timing out release their slots while others stay live", () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const window: { clear(): void }[] = [];
    for (let i = 0; i < 200_000; i++) {
      window.push(d.add(30_000, () => {}));
      if (window.length > 256) window.shift()!.clear();
    }
    expect(d.live).toBe(256);
    expect(d.held).toBeLessThanOrEqual(2 * 256 + 2 * 1024);
    // every deadline fires instead of being cleared: fired slots are released too
    const e = new Deadlines(clock);
    for (let i = 0; i < 50_000; i++) {
      e.add(100, () => {});
      clock.advance(1);
    }
    expect(e.live).toBeLessThanOrEqual(100);
    expect(e.held).toBeLessThanOrEqual(100 + 2 * 1024);
  });

  test("distinct durations cost what one duration costs: every operation is O(log n)", () => {
    // the shape of the report: each invoke with a slightly different timeoutMs (4000 + i/1000);
    // grouped by exact duration, the timer pass scanned every group per expiry (40k: 14 s)
    const run = (n: number, distinct: boolean): number => {
      const clock = new FakeClock();
      const d = new Deadlines(clock);
      let fired = 0;
      const t0 = performance.now();
      const hs = [];
      for (let i = 0; i < n; i++) hs.push(d.add(distinct ? 4000 + i / 1000 : 4000, () => fired++));
      for (let i = 0; i < n; i += 3) hs[i]!.clear(); // some calls finish first
      clock.advance(5000);
      const ms = performance.now() - t0;
      expect(fired).toBe(n - Math.ceil(n / 3));
      expect(d.live).toBe(0);
      expect(d.held).toBe(0);
      return ms;
    };
    run(5_000, true); // warm up
    run(5_000, false);
    const one = Math.min(run(40_000, false), run(40_000, false));
    const many = Math.min(run(40_000, true), run(40_000, true));
    // FakeClock's advance dominates both equally; the quadratic version was ~1000x here
    expect(many).toBeLessThan(Math.max(4 * one, 200));
  });

  test("a deadline beyond the longest Node timer re-arms instead of spinning, and fires on time", () => {
    const clock = new FakeClock();
    const delays: number[] = [];
    const set = clock.set.bind(clock);
    clock.set = (ms, fn) => {
      delays.push(ms);
      return set(ms, fn);
    };
    const d = new Deadlines(clock);
    const month = 30 * 24 * 3600 * 1000;
    let fired = 0;
    d.add(month, () => fired++);
    clock.advance(month - 1);
    expect(fired).toBe(0);
    expect(delays.every((ms) => ms >= 1 && ms <= 0x7fffffff)).toBe(true);
    expect(delays.length).toBe(2); // armed at the cap, then once more for the rest
    clock.advance(1);
    expect(fired).toBe(1);
  });

  test("callbacks may clear or add deadlines; a throwing callback does not stop the others", () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    const fired: string[] = [];
    let later: { clear(): void } | null = null;
    d.add(10, () => {
      fired.push("a");
      later?.clear(); // due in the same sweep, cleared before it fires
      d.add(0, () => fired.push("added"));
    });
    later = d.add(10, () => fired.push("later"));
    d.add(10, () => {
      fired.push("thrower");
      throw new Error("boom");
    });
    d.add(10, () => fired.push("after"));
    expect(() => clock.advance(10)).toThrow("boom");
    clock.advance(10); // anything the throw left behind
    expect(fired.sort()).toEqual(["a", "added", "after", "thrower"]);
    expect(d.live).toBe(0);
  });

  test("clearAll stops everything", () => {
    const clock = new FakeClock();
    const d = new Deadlines(clock);
    let fired = 0;
    for (let i = 0; i < 10; i++) d.add(10 * i, () => fired++);
    d.clearAll();
    clock.advance(1000);
    expect(fired).toBe(0);
    expect(clock.armed).toBe(0);
  });

  test("property: every live deadline fires exactly once, at or after its time; cleared ones never", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("add" as const), ms: fc.integer({ min: 0, max: 200 }) }),
            fc.record({ op: fc.constant("clear" as const), which: fc.nat() }),
            fc.record({ op: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 120 }) }),
          ),
          { maxLength: 80 },
        ),
        (ops) => {
          const clock = new FakeClock();
          const d = new Deadlines(clock);
          const made: { at: number; fired: number[]; cleared: boolean; h: { clear(): void } }[] = [];
          for (const o of ops) {
            if (o.op === "add") {
              const rec = {
                at: clock.now() + o.ms,
                fired: [] as number[],
                cleared: false,
                h: { clear() {} },
              };
              rec.h = d.add(o.ms, () => rec.fired.push(clock.now()));
              made.push(rec);
            } else if (o.op === "clear" && made.length > 0) {
              const rec = made[o.which % made.length]!;
              if (rec.fired.length === 0) rec.cleared = true;
              rec.h.clear();
            } else if (o.op === "advance") clock.advance(o.ms);
          }
          clock.advance(1000);
          for (const r of made) {
            if (r.cleared) expect(r.fired).toEqual([]);
            else {
              expect(r.fired.length).toBe(1);
              expect(r.fired[0]).toBeGreaterThanOrEqual(r.at);
            }
          }
          expect(d.live).toBe(0);
        },
      ),
    );
  });

  test("with the real clock, a process whose deadlines were all cleared exits at once", () => {
    const mod = fileURLToPath(new URL("../../src/distributed/deadlines.ts", import.meta.url));
    const script = `
      const { Deadlines } = await import(${JSON.stringify(mod)});
      const d = new Deadlines();
      const x = d.add(60_000, () => { console.log("fired"); });
      x.clear();
      console.log("done");
    `;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.stdout.trim()).toBe("done");
    // a pending 60 s timer would have kept it alive until spawnSync killed it (status null)
    expect(r.status).toBe(0);
  });
});
