/** LevelDB on disk: paths that cannot be opened, corrupt records, a cold reopen of many keys. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { type KVStore, levelStore, StoreError } from "spindel/distributed";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "spindel-level-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return (e as StoreError).code;
  }
  return undefined;
}

describe("levelStore", () => {
  it("a path that is a file cannot be opened: ERR_STORE_OPEN", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a database");
    expect(await code(levelStore(file))).toBe("ERR_STORE_OPEN");
  });

  it("a directory another handle holds cannot be opened: ERR_STORE_OPEN; the holder keeps serving", async () => {
    const path = join(dir, "held");
    const s = await levelStore(path);
    try {
      await s.put("k", 1);
      expect(await code(levelStore(path))).toBe("ERR_STORE_OPEN");
      expect(await s.get("k")).toBe(1);
    } finally {
      await s.close();
    }
  });

  it("corrupt records: get fails with ERR_STORE_CORRUPT, keys() skips and reports them, writes repair them", async () => {
    const path = join(dir, "corrupt");
    const raw = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: "utf8", valueEncoding: "view" });
    await raw.open();
    await raw.put("no-header", new Uint8Array([0xde, 0xad]));
    const badBody = new Uint8Array(12);
    badBody[0] = 1;
    new DataView(badBody.buffer).setFloat64(2, 1000);
    badBody[10] = 0xff; // a break code where an item must start
    badBody[11] = 0xff;
    await raw.put("bad-body", badBody);
    await raw.close();
    const reported: (string | undefined)[] = [];
    const s: KVStore = await levelStore(path, { onError: (_e, key) => reported.push(key) });
    try {
      await s.put("good", { ok: true });
      expect(await code(s.get("no-header"))).toBe("ERR_STORE_CORRUPT");
      expect(await code(s.get("bad-body"))).toBe("ERR_STORE_CORRUPT");
      const keys: string[] = [];
      for await (const k of s.keys()) keys.push(k.key);
      expect(keys).toEqual(["bad-body", "good"]);
      expect(reported).toEqual(["no-header"]);
      await s.put("no-header", "fixed");
      expect(await s.get("no-header")).toBe("fixed");
      expect(await s.get("good")).toEqual({ ok: true });
    } finally {
      await s.close();
    }
  });

  it("a cold reopen reads 2,000 keys back", async () => {
    const path = join(dir, "reopen");
    const s1 = await levelStore(path);
    const entries = Array.from(
      { length: 2000 },
      (_, i) => [`k${i}`, { i, pad: "x".repeat(i % 50) }] as const,
    );
    for (let i = 0; i < entries.length; i += 250) await s1.putMany(entries.slice(i, i + 250));
    await s1.close();
    const s2 = await levelStore(path);
    try {
      for (const [k, v] of entries) expect(await s2.get(k)).toEqual(v);
      let n = 0;
      for await (const _ of s2.keys()) n++;
      expect(n).toBe(2000);
    } finally {
      await s2.close();
    }
  });
});
