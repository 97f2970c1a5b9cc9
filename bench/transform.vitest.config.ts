/**
 * Used by bench/transform.bench.ts: the repository's Vitest config with the spindel plugin wrapped
 * in a timer, so the benchmark can report the plugin's share of a real test run. Writes
 * `{ transformCalls, rewritten, pluginMs }` to the file named by SPINDEL_BENCH_OUT at exit.
 */
import { writeFileSync } from "node:fs";
import type { Plugin } from "vite";
import { mergeConfig } from "vitest/config";
import { spindelPlugin } from "../src/transform/vite.js";
import base from "../vitest.config.js";

type TransformFn = Extract<NonNullable<Plugin["transform"]>, (...args: never[]) => unknown>;
const inner = spindelPlugin();
const hook = inner.transform as TransformFn;
const stats = { transformCalls: 0, rewritten: 0, pluginMs: 0 };
const timed: Plugin = {
  name: "spindel-timed",
  enforce: "pre",
  transform(code, id, options) {
    const t = performance.now();
    try {
      const r = hook.call(this, code, id, options);
      if (r) stats.rewritten++;
      return r;
    } finally {
      stats.pluginMs += performance.now() - t;
      stats.transformCalls++;
    }
  },
};
process.on("exit", () => {
  const out = process.env.SPINDEL_BENCH_OUT;
  if (out) writeFileSync(out, JSON.stringify(stats));
});

const { plugins: _plugins, ...rest } = base;
export default mergeConfig(rest, { plugins: [timed] });
