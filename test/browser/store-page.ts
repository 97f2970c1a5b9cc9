/**
 * The browser side of `store.test.ts`: the exported store conformance suite on `indexedDbStore`,
 * registered through a tiny in-page runner, and helpers for the reload test.
 */
import { indexedDbStore, StoreError } from "spindel/distributed";
import { storeConformance } from "spindel/distributed/testing";

interface PageTest {
  readonly name: string;
  readonly body: () => Promise<void>;
}

const tests: PageTest[] = [];
const path: string[] = [];
storeConformance(
  "indexeddb",
  (name) => indexedDbStore(name),
  {
    describe(name, body) {
      path.push(name);
      body();
      path.pop();
    },
    it(name, body) {
      tests.push({ name: [...path, name].join(" > "), body });
    },
  },
  { persistent: true },
);

const g = globalThis as Record<string, unknown>;

/** Run every registered conformance test; report each one's name and failure, if any. */
g.storeConformanceRun = async (): Promise<{ name: string; error: string | null }[]> => {
  const out: { name: string; error: string | null }[] = [];
  for (const t of tests) {
    try {
      await t.body();
      out.push({ name: t.name, error: null });
    } catch (e) {
      out.push({ name: t.name, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  }
  return out;
};

/** Write `n` keys into the database `name`, then close it. */
g.storeWrite = async (name: string, n: number): Promise<void> => {
  const s = await indexedDbStore(name);
  await s.putMany(Array.from({ length: n }, (_, i) => [`k${i}`, { i, when: new Date(i) }] as const));
  await s.delete("k0");
  await s.close();
};

/** Read the database `name` back: the keys and whether every value is intact. */
g.storeRead = async (
  name: string,
  n: number,
): Promise<{ keys: number; intact: boolean; deleted: boolean }> => {
  const s = await indexedDbStore(name);
  let keys = 0;
  for await (const _ of s.keys()) keys++;
  let intact = true;
  for (let i = 1; i < n; i++) {
    const v = await s.get<{ i: number; when: Date }>(`k${i}`);
    if (v?.i !== i || !(v.when instanceof Date) || v.when.getTime() !== i) intact = false;
  }
  const deleted = !(await s.has("k0"));
  await s.close();
  return { keys, intact, deleted };
};

/** A database another program made (no records store) is refused with ERR_STORE_OPEN. */
g.storeForeign = async (): Promise<string> => {
  await new Promise<void>((resolve, reject) => {
    const r = indexedDB.open("foreign-db", 1);
    r.onupgradeneeded = () => r.result.createObjectStore("other");
    r.onsuccess = () => {
      r.result.close();
      resolve();
    };
    r.onerror = () => reject(r.error);
  });
  try {
    await indexedDbStore("foreign-db");
    return "opened";
  } catch (e) {
    return e instanceof StoreError ? e.code : String(e);
  }
};

g.storePageReady = true;
