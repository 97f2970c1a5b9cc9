/**
 * A tiny benchmark harness: warm up, then take timed samples of each case round-robin and report
 * the median ops/s. Cases compared in one table run in the same process and the same rounds, so
 * ratios are like-for-like. Results go to bench/results/<name>.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One benchmark case: `fn` performs `batch` operations per call (sync or async). */
export interface Case {
  name: string;
  fn: () => void | Promise<void>;
  /** Operations per call of fn (for per-op figures). Default 1. */
  batch?: number;
}

/** Result of a case. */
export interface CaseResult {
  name: string;
  opsPerSec: number;
  nsPerOp: number;
  min: number;
  max: number;
  samples: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function sample(c: Case, ms: number): Promise<number> {
  const batch = c.batch ?? 1;
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 16; i++) {
      const r = c.fn();
      if (r !== undefined) await r;
    }
    ops += 16 * batch;
    t = performance.now();
  }
  return (ops / (t - t0)) * 1000;
}

/**
 * Between samples: collect, and let the event loop turn, as an application's does between frames.
 * Finalization callbacks (a context drops the state of collected handles in them) and timers run
 * only on a turn of the event loop; a sample loop never yields, and `await` alone only runs
 * microtasks, so without this they would wait until the benchmark ended and every sample would
 * carry the garbage of all the samples before it.
 */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    gc?.();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Run cases round-robin: `rounds` rounds of one sample (`sampleMs`) each, after a warm-up. */
export async function runCases(
  cases: Case[],
  opts: { rounds?: number; sampleMs?: number; warmupMs?: number } = {},
): Promise<CaseResult[]> {
  const rounds = opts.rounds ?? 7;
  const sampleMs = opts.sampleMs ?? 150;
  for (const c of cases) {
    await sample(c, opts.warmupMs ?? 200);
    await settle();
  }
  const all = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      await settle();
      all.get(c.name)!.push(await sample(c, sampleMs));
    }
  }
  return cases.map((c) => {
    const xs = all.get(c.name)!.sort((a, b) => a - b);
    const med = xs[Math.floor(xs.length / 2)]!;
    return {
      name: c.name,
      opsPerSec: med,
      nsPerOp: 1e9 / med,
      min: xs[0]!,
      max: xs[xs.length - 1]!,
      samples: xs.length,
    };
  });
}

/** Format ops/s compactly. */
export function fmt(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(2)}M`;
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(1)}k`;
  return ops.toFixed(1);
}

/** Write `bench/results/<name>.json` with environment info. */
export function writeResults(name: string, data: unknown): string {
  // a bundled bench (bench/run.ts) runs from bench/.out/: its results still go to bench/results
  const dir = process.env.BENCH_RESULTS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  const doc = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    ...((data as object) ?? {}),
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}
