import {
  type Context,
  deferred,
  delay,
  type Mailbox,
  mailbox,
  type Spin,
  Supervisor,
  type SupervisorExit,
  shutdown,
  spin,
  supervisor,
} from "spindel";
import { describe, expect, test } from "vitest";
import { advance, flush, track, vctx } from "./helpers.js";

/**
 * A long-running worker: logs its start, then handles "crash" commands from its mailbox by failing,
 * anything else by looping; logs its finally (so a real stop is observable).
 */
function worker(name: string, log: string[], inbox: Mailbox<string>): Spin<never> {
  return spin(
    async ($) => {
      log.push(`start ${name}`);
      try {
        for (;;) {
          const cmd = await $.await(inbox);
          if (cmd === "crash") throw new Error(`${name} crashed`);
        }
      } finally {
        log.push(`stop ${name}`);
      }
    },
    { name },
  );
}

function setup(strategy: "one-for-one" | "one-for-all" | "rest-for-one", extra?: { maxRestarts?: number }) {
  const ctx: Context = vctx();
  const log: string[] = [];
  const boxes = { a: mailbox<string>(), b: mailbox<string>(), c: mailbox<string>() };
  const fatal: [unknown, string][] = [];
  const restarts: string[] = [];
  const sup = supervisor(
    [
      { id: "a", start: worker("a", log, boxes.a) },
      { id: "b", start: worker("b", log, boxes.b) },
      { id: "c", start: worker("c", log, boxes.c) },
    ],
    {
      strategy,
      maxRestarts: extra?.maxRestarts ?? 5,
      windowMs: 1000,
      onFatal: (e, child) => fatal.push([e, child]),
      onRestart: (child) => restarts.push(child),
    },
  );
  const exit = track(ctx.value(sup));
  return { ctx, log, boxes, fatal, restarts, sup, exit };
}

describe("supervisor strategies", () => {
  test("one-for-one restarts only the failed child", async () => {
    const { ctx, log, boxes, restarts, exit } = setup("one-for-one");
    await flush();
    expect(log).toEqual(["start a", "start b", "start c"]);
    log.length = 0;
    boxes.b.post("crash", ctx);
    await flush();
    expect(log).toEqual(["stop b", "start b"]);
    expect(restarts).toEqual(["b"]);
    expect(exit.state).toBe("pending");
  });

  test("one-for-all really stops the other children (their finally runs) and restarts all", async () => {
    const { ctx, log, boxes, exit } = setup("one-for-all");
    await flush();
    log.length = 0;
    boxes.b.post("crash", ctx);
    await flush();
    expect(log).toEqual(["stop b", "stop c", "stop a", "start a", "start b", "start c"]);
    // the old incarnations are gone: one message reaches exactly one live worker
    boxes.a.post("ping", ctx);
    await flush();
    expect(boxes.a.size(ctx)).toBe(0);
    expect(boxes.a.waiting(ctx)).toBe(1);
    expect(exit.state).toBe("pending");
  });

  test("rest-for-one restarts the failed child and those after it", async () => {
    const { ctx, log, boxes } = setup("rest-for-one");
    await flush();
    log.length = 0;
    boxes.b.post("crash", ctx);
    await flush();
    expect(log).toEqual(["stop b", "stop c", "start b", "start c"]);
    log.length = 0;
    boxes.c.post("crash", ctx);
    await flush();
    expect(log).toEqual(["stop c", "start c"]);
  });
});

describe("supervisor budget, fatal and shutdown", () => {
  test("more than maxRestarts failures within the window: everything stops, onFatal, exit fatal", async () => {
    const { ctx, log, boxes, fatal, exit } = setup("one-for-one", { maxRestarts: 2 });
    await flush();
    boxes.a.post("crash", ctx);
    await flush();
    boxes.a.post("crash", ctx);
    await flush();
    expect(fatal).toEqual([]);
    log.length = 0;
    boxes.a.post("crash", ctx);
    await flush();
    expect(fatal.length).toBe(1);
    expect(fatal[0]![1]).toBe("a");
    expect((fatal[0]![0] as Error).message).toBe("a crashed");
    expect(log).toEqual(["stop a", "stop c", "stop b"]);
    expect(exit.state).toBe("ok");
    const e = exit.value as SupervisorExit;
    expect(e.reason).toBe("fatal");
    if (e.reason === "fatal") expect(e.child).toBe("a");
  });

  test("failures spread beyond the window do not exhaust the budget", async () => {
    const { ctx, boxes, fatal, restarts, exit } = setup("one-for-one", { maxRestarts: 2 });
    await flush();
    for (let i = 0; i < 6; i++) {
      boxes.a.post("crash", ctx);
      await flush();
      await advance(ctx, 600); // two failures per 1000 ms window at most
    }
    expect(restarts.length).toBe(6);
    expect(fatal).toEqual([]);
    expect(exit.state).toBe("pending");
  });

  test("shutdown stops every child, settles with { reason: 'shutdown' }, and only once", async () => {
    const { ctx, log, sup, exit } = setup("one-for-one");
    await flush();
    log.length = 0;
    expect(sup.shutdown(ctx)).toBe(true);
    await flush();
    expect(log).toEqual(["stop c", "stop b", "stop a"]);
    expect(exit.value).toEqual({ reason: "shutdown" });
    expect(shutdown(sup, ctx)).toBe(false);
  });

  test("cancelling the supervisor stops its children", async () => {
    const { ctx, log, sup, exit } = setup("one-for-all");
    await flush();
    log.length = 0;
    ctx.cancel(sup);
    await flush();
    expect(log).toEqual(["stop c", "stop b", "stop a"]);
    expect(exit.state).toBe("error");
  });

  test("a child that completes is not restarted; a factory child gets a fresh spin per start", async () => {
    const ctx = vctx();
    let made = 0;
    const gate = deferred<void>();
    const sup = supervisor([
      { id: "once", start: spin(async () => "done") },
      {
        id: "made",
        start: () => {
          const n = ++made;
          return spin(async ($) => {
            await $.await(gate);
            if (n === 1) throw new Error("first incarnation fails");
            return n;
          });
        },
      },
    ]);
    ctx.spawn(sup);
    await flush();
    const first = sup.children(ctx)[1];
    gate.deliver(undefined, ctx);
    await flush();
    expect(made).toBe(2);
    const second = sup.children(ctx)[1];
    expect(second).not.toBe(first);
    expect(await ctx.value(second as Spin<number>)).toBe(2);
    expect(sup.shutdown(ctx)).toBe(true);
  });

  test("restarts use the context's clock for the window (virtual time) and settle for ctx.settled()", async () => {
    const ctx = vctx();
    let runs = 0;
    const flaky = spin(async ($) => {
      runs++;
      await $.await(delay(10));
      throw new Error("flaky");
    });
    const sup = supervisor([{ id: "flaky", start: flaky }], { maxRestarts: 3, windowMs: 100 });
    const exit = track(ctx.value(sup));
    for (let i = 0; i < 5; i++) await advance(ctx, 10);
    await ctx.settled();
    expect(runs).toBe(4);
    expect((exit.value as SupervisorExit).reason).toBe("fatal");
    expect(ctx.clock.pending).toBe(0);
  });

  test("a restart waits for the stopped children to unwind, at most shutdownMs", async () => {
    const ctx = vctx();
    const log: string[] = [];
    const boxA = mailbox<string>();
    const stuck = spin(
      async ($) => {
        log.push("start stuck");
        try {
          await $.await(mailbox<never>());
        } finally {
          log.push("stuck unwinding");
          await new Promise<void>(() => {}); // a finally that never completes
        }
      },
      { name: "stuck" },
    );
    const sup = supervisor(
      [
        { id: "a", start: worker("a", log, boxA) },
        { id: "stuck", start: stuck },
      ],
      { strategy: "one-for-all", shutdownMs: 200 },
    );
    ctx.spawn(sup);
    await flush();
    log.length = 0;
    boxA.post("crash", ctx);
    await flush();
    expect(log).toEqual(["stop a", "stuck unwinding"]); // not restarted yet: still unwinding
    await advance(ctx, 199);
    expect(log).toEqual(["stop a", "stuck unwinding"]);
    await advance(ctx, 1);
    expect(log).toEqual(["stop a", "stuck unwinding", "start a", "start stuck"]);
    expect(sup.shutdown(ctx)).toBe(true);
  });

  test("invalid children and options are rejected", () => {
    expect(() => supervisor([])).toThrow(/non-empty/);
    expect(() => supervisor([{ id: "x", start: 5 as never }])).toThrow(/start/);
    const s = spin(() => 1);
    expect(() =>
      supervisor([
        { id: "x", start: s },
        { id: "x", start: s },
      ]),
    ).toThrow(/unique/);
    expect(() => supervisor([{ id: "x", start: s }], { strategy: "nope" as never })).toThrow(/strategy/);
    expect(() => supervisor([{ id: "x", start: s }], { maxRestarts: -1 })).toThrow(/maxRestarts/);
    expect(supervisor([{ id: "x", start: s }])).toBeInstanceOf(Supervisor);
  });
});
