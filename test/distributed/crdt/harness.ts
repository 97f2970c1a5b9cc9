import fc from "fast-check";
import type { Convergent } from "spindel/crdt";
import { decodeCbor, encodeCbor } from "../../../src/core/persist/codec.js";

/** A datatype under test: a shared start value per replica and an operation from small numbers. */
export interface LawSpec<S extends Convergent<S, S>> {
  name: string;
  /** The start value of replica `actor` (all replicas must start from equal states). */
  start(actor: string): S;
  /** One local operation; `kind` and `x` are small naturals, `t` a wall time that may step back. */
  op(s: S, kind: number, x: number, actor: string, t: number): S;
}

type Step = { r: number; sync: boolean; from: number; kind: number; x: number; t: number };

const step: fc.Arbitrary<Step> = fc.record({
  r: fc.nat({ max: 2 }),
  sync: fc.boolean(),
  from: fc.nat({ max: 2 }),
  kind: fc.nat({ max: 3 }),
  x: fc.nat({ max: 5 }),
  t: fc.nat({ max: 20 }),
});

/** Deterministic Fisher–Yates from a seed (mulberry32), so a failure replays exactly. */
export function shuffle<T>(xs: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function roundTrip<S>(s: S): S {
  return decodeCbor(encodeCbor(s)) as S;
}

/**
 * fast-check's seed and number of runs for a property: the fixed ones, or `SEED` and `RUNS` from
 * the environment (`npm run fuzz:seeds` runs the suites on fresh seeds, with `FC_SIZE` larger).
 */
export function fcRun(seed: number, numRuns: number): { seed: number; numRuns: number } {
  return { seed: Number(process.env.SEED ?? seed), numRuns: Number(process.env.RUNS ?? numRuns) };
}

/** Runs the lattice laws for `spec` with a fixed seed (or `SEED`) and a bounded number of runs (or `RUNS`). */
export function checkLaws<S extends Convergent<S, S>>(spec: LawSpec<S>, numRuns = 150): void {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 30 }), fc.nat(), (steps, seed) => {
      const actors = ["a", "b", "c"];
      const reps = actors.map((a) => spec.start(a));
      const deltas: S[] = [];
      for (const s of steps) {
        if (s.sync) {
          reps[s.r] = (reps[s.r] as S).join(reps[s.from] as S);
          if (reps[s.r]?.delta !== null) throw new Error("a join left a pending delta");
        } else {
          const next = spec.op(reps[s.r] as S, s.kind, s.x, actors[s.r] as string, s.t);
          if (next.delta !== null) deltas.push(next.delta);
          reps[s.r] = next.clearDelta();
        }
      }
      const [a, b, c] = reps as [S, S, S];
      // commutative, associative, idempotent (idempotence as the no-op identity)
      if (!a.join(b).equals(b.join(a))) throw new Error("join is not commutative");
      if (
        !a
          .join(b)
          .join(c)
          .equals(a.join(b.join(c)))
      )
        throw new Error("join is not associative");
      if (a.join(a) !== a) throw new Error("a.join(a) is not a");
      const full = a.join(b).join(c);
      if (full.join(a) !== full || full.join(b) !== full || full.join(c) !== full)
        throw new Error("joining a smaller value did not return the receiver");
      // every delta, in random order with duplicates, applied to a fresh replica
      const dup = deltas.concat(shuffle(deltas, seed).slice(0, seed % (deltas.length + 1)));
      let fresh = spec.start("z");
      for (const [i, d] of shuffle(dup, seed + 1).entries()) {
        fresh = fresh.applyDelta(i % 2 === 0 ? d : roundTrip(d));
        if (fresh.delta !== null) throw new Error("applyDelta left a pending delta");
      }
      if (!fresh.equals(full)) throw new Error("deltas applied in any order differ from the join");
      for (const d of deltas)
        if (full.applyDelta(d) !== full) throw new Error("a seen delta was not a no-op");
      // codec inside the loop: equal after a round trip, and a decoded value joins with a live one
      const back = roundTrip(full);
      if (!back.equals(full)) throw new Error("codec round trip changed the value");
      if (!roundTrip(a).join(b).equals(a.join(b))) throw new Error("a decoded value joins differently");
      if (back.join(full) !== back) throw new Error("a decoded value is not a fixpoint of its original");
    }),
    fcRun(0x5eed, numRuns),
  );
}
