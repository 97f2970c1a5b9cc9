/** A stored map on LevelDB (classic-level, on disk): heads and branches survive a cold reopen. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { levelStore } from "spindel/distributed";
import { afterEach, describe, expect, it } from "vitest";
import { openStoredMap } from "../../../src/distributed/workspace/stored-map.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("stored map on LevelDB", () => {
  it("branches, merges and reads back every head after a cold reopen", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ws-level-"));
    dirs.push(dir);
    const store = await levelStore(dir);
    const m = await openStoredMap(store, { id: "db", leafSize: 4 });
    const base = await m.transact(Array.from({ length: 50 }, (_, i) => [`k${i}`, i] as const));
    await m.branch("f");
    await m.checkout("f");
    await m.set("k1", "fork");
    await m.checkout("main");
    await m.set("k2", "main");
    await m.merge("f");
    const merged = (await m.head()) as string;
    await store.close();

    const again = await levelStore(dir);
    const m2 = await openStoredMap(again, { id: "db", leafSize: 4 });
    expect(await m2.head("main")).toBe(merged);
    expect(await m2.branches()).toEqual(["f", "main"]);
    const v = await (await m2.value()).toObject();
    expect(v.k1).toBe("fork");
    expect(v.k2).toBe("main");
    expect(await (await m2.asOf(base)).get("k1")).toBe(1);
    await again.close();
  });
});
