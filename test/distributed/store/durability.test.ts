/**
 * A write that returned is on disk: a child process writes into a levelStore, the parent kills it
 * with SIGKILL after a few hundred acknowledged writes, reopens the store and finds every one.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { levelStore } from "spindel/distributed";
import { afterAll, describe, expect, it } from "vitest";
import { within } from "../helpers.js";

const dir = mkdtempSync(join(tmpdir(), "spindel-durable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("levelStore durability", () => {
  it("a process killed with SIGKILL loses no acknowledged write", async () => {
    const path = join(dir, "db");
    const script = fileURLToPath(new URL("./durability-fixture.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script, path], {
      cwd: fileURLToPath(new URL("../../..", import.meta.url)),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acked = -1;
    let err = "";
    let buf = "";
    let reached: (() => void) | null = null;
    const enough = new Promise<void>((r) => {
      reached = r;
    });
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const l of lines) if (l.startsWith("ack ")) acked = Number(l.slice(4));
      if (acked >= 300) reached?.();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const exited = once(child, "exit");
    try {
      await within(
        Promise.race([enough, exited.then(() => Promise.reject(new Error(`child exited: ${err}`)))]),
        15_000,
        "300 acknowledged writes",
      );
    } finally {
      child.kill("SIGKILL");
    }
    const [code, sig] = (await exited) as [number | null, string | null];
    expect({ code, sig }).toEqual({ code: null, sig: "SIGKILL" });
    const last = acked;
    const store = await levelStore(path);
    try {
      for (let i = 0; i <= last; i++) {
        const deleted = i % 7 === 5 && i + 1 <= last;
        const v = await store.get<{ i: number; batch: boolean }>(`k${i}`);
        if (deleted) expect(v, `k${i} was deleted`).toBeUndefined();
        else expect(v, `k${i}`).toEqual({ i, batch: i % 3 === 2 });
        if (i % 3 === 2) expect(await store.get(`b${i}`)).toBe("x".repeat(i % 100));
      }
    } finally {
      await store.close();
    }
  });
});
