/**
 * What the Chromium tests share: a page script bundled by Vite for browsers (the spindel plugin, the
 * package's browser entries), a local HTTP server for it, a Chromium page collecting its errors,
 * and calls into helpers the page defines on `globalThis`. Needs Chromium (`.ci/run` installs it; or
 * set CHROMIUM_PATH).
 */
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { spindelPlugin } from "../../src/transform/vite.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A page in Chromium, served from 127.0.0.1, with the errors it threw. */
export interface BrowserPage {
  /** The bundled page script. */
  readonly script: string;
  /** The page's address. */
  readonly url: string;
  readonly browser: Browser;
  readonly page: Page;
  /** Messages of uncaught errors in the page, in order. */
  readonly errors: string[];
  /** Close the browser and the server. */
  close(): Promise<void>;
}

/** Bundle `test/browser/<name>.ts` for browsers in memory; returns the script. */
async function bundle(name: string): Promise<string> {
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
        input: path.join(REPO, `test/browser/${name}.ts`),
        output: { format: "es", entryFileNames: `${name}.js` },
      },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as {
    output: { type: string; fileName: string; code?: string }[];
  }[];
  const chunk = outputs
    .flatMap((o) => o.output)
    .find((o) => o.type === "chunk" && o.fileName === `${name}.js`);
  if (chunk?.code === undefined) throw new Error(`the page bundle has no ${name}.js`);
  return chunk.code;
}

/** Launch Chromium (headless, no sandbox), or fail saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** Bundle `test/browser/<name>.ts`, serve it as a page titled `title`, and open it in Chromium. */
export async function openPage(name: string, title: string): Promise<BrowserPage> {
  const browser = await launchChromium();
  const script = await bundle(name);
  const http = createServer((req, res) => {
    if (req.url === `/${name}.js`) {
      res.writeHead(200, { "content-type": "text/javascript" });
      res.end(script);
    } else {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>${title}</title><script type="module" src="/${name}.js"></script>`);
    }
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return {
    script,
    url,
    browser,
    page,
    errors,
    async close() {
      await browser.close();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Call a helper the page defines on `globalThis`, with JSON-able arguments. */
export function callPage<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([n, a]) =>
      (globalThis as unknown as Record<string, (...x: unknown[]) => unknown>)[n as string]!(
        ...(a as unknown[]),
      ),
    [name, args] as const,
  ) as Promise<T>;
}
