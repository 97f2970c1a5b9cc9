/**
 * The seven graph shapes of js-reactivity-benchmark, built through one small interface for each
 * framework compared: spindel in a root context, spindel in a fork, raw preact, alien-signals.
 * Shared by the timed benchmark (core.bench.ts) and the instruction count (instructions.ts).
 */
import * as P from "@preact/signals-core";
import * as A from "alien-signals";
import { batch, createContext, Signal, type Spin, signal, spin } from "../src/index.js";

/** Results are accumulated here so the optimizer cannot drop the work. */
export const out = { sink: 0 };

/** A node handle of one framework, read tracked inside a derived body through `get`. */
export type Get = <T>(x: unknown) => T;
/** One framework, as the shapes use it. */
export interface Fw {
  name: string;
  signal<T>(v: T): unknown;
  computed<T>(fn: (get: Get) => T): unknown;
  effect(fn: (get: Get) => void): () => void;
  write<T>(s: unknown, v: T): void;
  read<T>(x: unknown): T;
  batch(fn: () => void): void;
}

/** spindel in context `ctx`: a computed is a spin, an effect an observed spin. */
export function spindelFw(ctx: ReturnType<typeof createContext>, name: string): Fw {
  return {
    name,
    signal: (v) => signal(v),
    computed: (fn) => spin(($) => fn(((x: unknown) => $.track(x as Signal<unknown>)) as Get)),
    effect: (fn) =>
      ctx.observe(
        spin(($) => {
          fn(((x: unknown) => $.track(x as Signal<unknown>)) as Get);
          return 0;
        }),
        () => {},
      ),
    write: (s, v) => ctx.set(s as Signal<typeof v>, v),
    read: <T>(x: unknown) => (x instanceof Signal ? ctx.get(x as Signal<T>) : ctx.read(x as Spin<T>)),
    batch: (fn) => batch(fn),
  };
}

/** Raw `@preact/signals-core`. */
export const preactFw: Fw = {
  name: "preact",
  signal: (v) => P.signal(v),
  computed: (fn) => P.computed(() => fn(((x: P.ReadonlySignal<unknown>) => x.value) as Get)),
  effect: (fn) => P.effect(() => fn(((x: P.ReadonlySignal<unknown>) => x.value) as Get)),
  write: (s, v) => {
    (s as P.Signal<typeof v>).value = v;
  },
  read: <T>(x: unknown) => (x as P.ReadonlySignal<T>).value,
  batch: (fn) => P.batch(fn),
};

/** alien-signals. */
export const alienFw: Fw = {
  name: "alien",
  signal: (v) => A.signal(v),
  computed: (fn) => A.computed(() => fn(((x: () => unknown) => x()) as Get)),
  effect: (fn) => A.effect(() => fn(((x: () => unknown) => x()) as Get)),
  write: (s, v) => (s as (v: unknown) => void)(v),
  read: <T>(x: unknown) => (x as () => T)(),
  batch: (fn) => {
    A.startBatch();
    try {
      fn();
    } finally {
      A.endBatch();
    }
  },
};

/** The four frameworks of a shape's row, each (spindel's) in a fresh context. */
export const frameworks = (): Fw[] => [
  spindelFw(createContext(), "spindel root"),
  spindelFw(createContext().fork(), "spindel fork"),
  preactFw,
  alienFw,
];

/** A shape: build the graph with `fw`, return one operation (a write and what it propagates). */
export type Shape = (fw: Fw) => () => void;

/** The shapes, by name. */
export const shapes: [string, Shape][] = [
  [
    "shape chain 1000",
    (fw) => {
      const s = fw.signal(0);
      let prev = fw.computed((get) => get<number>(s));
      for (let i = 1; i < 1000; i++) {
        const p0 = prev;
        prev = fw.computed((get) => get<number>(p0) + 1);
      }
      const tail = prev;
      fw.effect((get) => {
        out.sink += get<number>(tail);
      });
      let n = 0;
      return () => fw.write(s, ++n);
    },
  ],
  [
    "shape fan-out 1->1000",
    (fw) => {
      const s = fw.signal(0);
      for (let i = 0; i < 1000; i++) {
        const c = fw.computed((get) => get<number>(s) + i);
        fw.effect((get) => {
          out.sink += get<number>(c);
        });
      }
      let n = 0;
      return () => fw.write(s, ++n);
    },
  ],
  [
    "shape diamond",
    (fw) => {
      const a = fw.signal(0);
      const b = fw.computed((get) => get<number>(a) * 2);
      const c = fw.computed((get) => get<number>(a) + 10);
      const d = fw.computed((get) => get<number>(b) + get<number>(c));
      fw.effect((get) => {
        out.sink += get<number>(d);
      });
      let n = 0;
      return () => fw.write(a, ++n);
    },
  ],
  [
    "shape kairo avoidable",
    (fw) => {
      const head = fw.signal(0);
      const c1 = fw.computed((get) => get<number>(head));
      const c2 = fw.computed((get) => get<number>(c1) * 0);
      const c3 = fw.computed((get) => get<number>(c2) + 1);
      const c4 = fw.computed((get) => get<number>(c3) + 2);
      const c5 = fw.computed((get) => get<number>(c4) + 3);
      fw.effect((get) => {
        out.sink += get<number>(c5);
      });
      let n = 0;
      return () => {
        fw.write(head, ++n);
        out.sink += fw.read<number>(c5);
      };
    },
  ],
  [
    "shape create+dispose",
    (fw) => () => {
      const s = fw.signal(1);
      const c = fw.computed((get) => get<number>(s) * 2);
      const stop = fw.effect((get) => {
        out.sink += get<number>(c);
      });
      fw.write(s, 2);
      stop();
    },
  ],
  [
    "shape cellx 1000",
    (fw) => {
      const s = fw.signal(1);
      let a = fw.computed((get) => get<number>(s));
      let b = fw.computed((get) => get<number>(s) * 2);
      let c = fw.computed((get) => get<number>(s) * 3);
      let d = fw.computed((get) => get<number>(s) * 4);
      for (let i = 0; i < 1000; i++) {
        const [pa, pb, pc, pd] = [a, b, c, d];
        a = fw.computed((get) => get<number>(pb));
        b = fw.computed((get) => get<number>(pa) - get<number>(pc));
        c = fw.computed((get) => get<number>(pb) + get<number>(pd));
        d = fw.computed((get) => get<number>(pc));
      }
      for (const x of [a, b, c, d])
        fw.effect((get) => {
          out.sink += get<number>(x);
        });
      let n = 0;
      return () => fw.batch(() => fw.write(s, ++n));
    },
  ],
  [
    "shape dynamic 1000x12",
    (fw) => {
      const sources = Array.from({ length: 12 }, (_, i) => fw.signal(i));
      const mode = fw.signal(false);
      for (let i = 0; i < 1000; i++) {
        const c = fw.computed((get) => {
          let sum = 0;
          // which six sources a computed reads depends on `mode`: the graph rewires every write
          const from = get<boolean>(mode) === (i % 2 === 0) ? 0 : 6;
          for (let k = from; k < from + 6; k++) sum += get<number>(sources[k]);
          return sum;
        });
        fw.effect((get) => {
          out.sink += get<number>(c);
        });
      }
      let n = 0;
      return () =>
        fw.batch(() => {
          fw.write(mode, ++n % 2 === 0);
          fw.write(sources[n % 12], n);
        });
    },
  ],
];
