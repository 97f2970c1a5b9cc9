/**
 * Per-file fixtures of the hub tests: one `redis-server` for the file, and cleanups run after each
 * test (last registered first) with temporary directories that register their own removal.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type RedisServer, startRedis } from "./redis.js";

/** Starts a `redis-server` before the file's tests and stops it after them; returns it (once started). */
export function sharedRedis(): () => RedisServer {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.dispose();
  });
  return () => {
    if (redis === undefined) throw new Error("redis-server is started in beforeAll");
    return redis;
  };
}

/**
 * The cleanups of the running test (push to `cleanup`; run last first after it, then `after`), and
 * `tmp()`: a fresh directory named `prefix…`, removed after the test.
 */
export function perTest(
  prefix: string,
  after?: () => Promise<void> | void,
): { cleanup: (() => Promise<void> | void)[]; tmp: () => string } {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
    await after?.();
  });
  const tmp = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), prefix));
    cleanup.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };
  return { cleanup, tmp };
}
