/**
 * IndexedDB in real Chromium: the exported store conformance suite on `indexedDbStore` (bundled
 * by Vite with the browser conditions), a reload that reads every key back, a foreign database
 * refused. Needs Chromium (`.ci/run` installs it; or set CHROMIUM_PATH).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BrowserPage, callPage, openPage } from "./harness.js";

let opened: BrowserPage;
let page: Page;
let script = "";
let errors: string[] = [];

async function load(): Promise<void> {
  await page.goto(opened.url);
  await page.waitForFunction(() => (globalThis as Record<string, unknown>).storePageReady === true, null, {
    timeout: 10_000,
  });
}

beforeAll(async () => {
  opened = await openPage("store-page", "spindel stores");
  ({ page, script, errors } = opened);
  await load();
}, 60_000);

afterAll(async () => {
  await opened?.close();
});

const call = <T>(name: string, ...args: unknown[]): Promise<T> => callPage<T>(page, name, ...args);

describe("indexedDbStore in Chromium", () => {
  test("the bundle has no Node-only code in it", () => {
    expect(script).not.toMatch(/from\s*["'](ws|classic-level|node:[a-z]+)["']/);
  });

  test("passes the store conformance suite", async () => {
    const results = await call<{ name: string; error: string | null }[]>("storeConformanceRun");
    expect(results.length).toBeGreaterThanOrEqual(17);
    expect(results.filter((r) => r.error !== null)).toEqual([]);
    expect(results.some((r) => r.name.includes("cold reopen"))).toBe(true);
    expect(errors).toEqual([]);
  }, 60_000);

  test("a reload of the page reads every key back (and the delete stays)", async () => {
    await call("storeWrite", "reload-db", 500);
    await load();
    expect(await call("storeRead", "reload-db", 500)).toEqual({ keys: 499, intact: true, deleted: true });
  });

  test("a database that is not a spindel store is refused with ERR_STORE_OPEN", async () => {
    expect(await call("storeForeign")).toBe("ERR_STORE_OPEN");
  });
});
