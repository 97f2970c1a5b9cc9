/**
 * IndexedDB in real Chromium: the exported store conformance suite on `indexedDbStore` (bundled
 * by Vite with the browser conditions), a reload that reads every key back, a foreign database
 * refused. Needs Chromium (`.ci/run` installs it; or set CHROMIUM_PATH).
 */
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { spindelPlugin } from "../../src/transform/vite.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

async function bundle(): Promise<string> {
  const out = await build({
    configFile: false,
    logLevel: "warn",
    root: REPO,
    plugins: [spindelPlugin()],
    resolve: {
      alias: [
        {
          find: /^spindel\/distributed\/testing$/,
          replacement: path.join(REPO, "src/distributed/testing/index.ts"),
        },
        { find: /^spindel\/distributed$/, replacement: path.join(REPO, "src/distributed/browser.ts") },
        { find: /^spindel$/, replacement: path.join(REPO, "src/index.ts") },
      ],
    },
    build: {
      write: false,
      minify: false,
      target: "es2022",
      rollupOptions: {
        input: path.join(REPO, "test/browser/store-page.ts"),
        output: { format: "es", entryFileNames: "store-page.js" },
      },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as {
    output: { type: string; fileName: string; code?: string }[];
  }[];
  const chunk = outputs
    .flatMap((o) => o.output)
    .find((o) => o.type === "chunk" && o.fileName === "store-page.js");
  if (chunk?.code === undefined) throw new Error("the page bundle has no store-page.js");
  return chunk.code;
}

let http: Server;
let pageUrl: string;
let browser: Browser;
let page: Page;
let script = "";
const errors: string[] = [];

async function load(): Promise<void> {
  await page.goto(pageUrl);
  await page.waitForFunction(() => (globalThis as Record<string, unknown>).storePageReady === true, null, {
    timeout: 10_000,
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  script = await bundle();
  http = createServer((req, res) => {
    if (req.url === "/store-page.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(script);
    } else {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(
        '<!doctype html><title>spindel stores</title><script type="module" src="/store-page.js"></script>',
      );
    }
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  pageUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  await load();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
});

function call<T>(name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([n, a]) =>
      (globalThis as unknown as Record<string, (...x: unknown[]) => unknown>)[n as string]!(
        ...(a as unknown[]),
      ),
    [name, args] as const,
  ) as Promise<T>;
}

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
