/**
 * The demo app in real Chromium, served by a real hub: two pages share the todo list live, the
 * what-if workspace merges back or shows its conflict, a reload restores the state from the hub.
 * A screenshot goes to test-output/hub-demo.png.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildDemo } from "../../demo/build.js";
import { type Hub, startHub } from "../../src/distributed/hub/hub.js";
import { launchChromium } from "../browser/harness.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const OUT = path.join(REPO, "test-output");

let dir: string;
let site: string;
let hub: Hub;
let browser: Browser;
const errors: string[] = [];

async function open(name: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 960, height: 560 } });
  page.on("pageerror", (e) => errors.push(`${name}: ${e.message}`));
  await page.goto(`${hub.httpUrl}?name=${name}`);
  await page.waitForSelector("body[data-ready=true] #connected.ok", { timeout: 15_000 });
  await page.waitForSelector("#caughtup.ok", { timeout: 15_000 });
  return page;
}

const todo = (page: Page, text: string) => page.locator("#todos li.todo", { hasText: text });

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "spindel-demo-"));
  site = await buildDemo(path.join(dir, "site"));
  hub = await startHub({ port: 0, store: path.join(dir, "store"), staticDir: site });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await hub?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe("the demo app (Chromium, two pages, one hub)", () => {
  test("edits in one page appear in the other; what-if merges back or shows the conflict; a reload restores state; offline edits sync when the hub is back", async () => {
    const ann = await open("Ann");
    const bob = await open("Bob");

    // presence: both pages see both peers
    await expect
      .poll(() => ann.locator("#presence li").allTextContents(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(["Ann", "Bob"]));
    await expect.poll(() => bob.locator("#presence li").count(), { timeout: 10_000 }).toBe(2);

    // live edits, both ways
    await ann.fill("#new-todo", "buy milk");
    await ann.click("#add");
    await ann.fill("#new-todo", "write docs");
    await ann.click("#add");
    await todo(bob, "buy milk").waitFor({ timeout: 10_000 });
    await todo(bob, "write docs").waitFor({ timeout: 10_000 });
    await todo(bob, "buy milk").locator(".toggle").check();
    await ann.locator("#todos li.todo.done", { hasText: "buy milk" }).waitFor({ timeout: 10_000 });

    // what-if: edits stay in the fork until merged
    await ann.click("#whatif");
    await ann.locator("#mode").waitFor({ state: "visible" });
    await ann.fill("#new-todo", "try the fork");
    await ann.click("#add");
    await todo(ann, "try the fork").waitFor();
    await bob.fill("#new-todo", "from bob meanwhile");
    await bob.click("#add");
    // the shared list got bob's todo; ann's fork has not merged yet, so bob never saw hers
    await expect.poll(() => bob.locator("#todos li.todo").count(), { timeout: 10_000 }).toBe(3);
    expect(await todo(bob, "try the fork").count()).toBe(0);
    await ann.click("#merge");
    await ann.locator("#mode").waitFor({ state: "hidden" });
    await todo(bob, "try the fork").waitFor({ timeout: 10_000 });
    await todo(ann, "from bob meanwhile").waitFor({ timeout: 10_000 });

    // a conflicting what-if: ann un-checks "buy milk" in a fork while bob deletes it
    await ann.click("#whatif");
    await todo(ann, "buy milk").locator(".toggle").uncheck();
    await todo(bob, "buy milk").locator(".delete").click();
    await expect.poll(() => todo(bob, "buy milk").count()).toBe(0);
    // ann's fork does not see the delete; her shared list does, and that is what the merge checks
    await expect
      .poll(
        () =>
          ann.evaluate(() =>
            (globalThis as unknown as { spindelDemo: { sharedTexts(): string[] } }).spindelDemo.sharedTexts(),
          ),
        { timeout: 10_000 },
      )
      .not.toContain("buy milk");
    await ann.click("#merge");
    await ann.locator("#conflicts").waitFor({ state: "visible" });
    expect(await ann.locator("#conflict-list li").first().textContent()).toContain("buy milk");
    // the fork is still open: nothing merged
    expect(await ann.locator("#mode").isVisible()).toBe(true);
    mkdirSync(OUT, { recursive: true });
    await ann.screenshot({ path: path.join(OUT, "hub-demo-conflict.png") });
    await ann.click("#discard");
    await ann.locator("#mode").waitFor({ state: "hidden" });
    await expect.poll(() => todo(ann, "buy milk").count(), { timeout: 10_000 }).toBe(0);

    await ann.screenshot({ path: path.join(OUT, "hub-demo.png") });

    // a reload restores the list from the hub
    await bob.reload();
    await bob.waitForSelector("body[data-ready=true] #caughtup.ok", { timeout: 15_000 });
    await expect
      .poll(() => bob.locator("#todos li.todo .text").allTextContents(), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(["write docs", "try the fork", "from bob meanwhile"]));
    expect(await bob.locator("#todos li.todo").count()).toBe(3);

    // offline: the hub goes away, ann edits, a hub comes back on the same port and store
    const port = hub.port;
    await hub.close();
    await ann.waitForSelector("#connected:not(.ok)", { timeout: 15_000 });
    await ann.fill("#new-todo", "written offline");
    await ann.click("#add");
    expect(await ann.locator("#pending").textContent()).not.toBe("0");
    hub = await startHub({ port, store: path.join(dir, "store"), staticDir: site });
    await todo(bob, "written offline").waitFor({ timeout: 20_000 });
    await ann.waitForSelector("#caughtup.ok", { timeout: 15_000 });
    await expect.poll(() => ann.locator("#pending").textContent(), { timeout: 10_000 }).toBe("0");
    expect(errors).toEqual([]);
  }, 120_000);
});
