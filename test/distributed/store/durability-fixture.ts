/**
 * Run as a child process by durability.test.ts: write into a levelStore without end, printing each
 * write once it is acknowledged, until the parent kills the process with SIGKILL.
 */
import { levelStore } from "../../../src/distributed/index.js";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: durability-fixture <dir>");
const store = await levelStore(path);
for (let i = 0; ; i++) {
  if (i % 3 === 2)
    await store.putMany([
      [`k${i}`, { i, batch: true }],
      [`b${i}`, "x".repeat(i % 100)],
    ]);
  else await store.put(`k${i}`, { i, batch: false });
  if (i % 7 === 6) await store.delete(`k${i - 1}`);
  process.stdout.write(`ack ${i}\n`);
}
