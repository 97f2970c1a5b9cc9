/**
 * Misbehaving peers (adversarial review): answers to ids no call awaits, ping floods and
 * connection-level error frames count as protocol errors, their reports to `onError` are
 * rate-limited, and an invoke without a source hash is refused. Real sockets, raw clients.
 */
import { describe, expect, test } from "vitest";
import { defineRemote, eventually, hub, RawClient } from "./helpers.js";

const add = defineRemote(["x", "y"], (x: number, y: number) => () => x + y, "misbehaviour-add");

describe("misbehaving peers are counted and bounded", () => {
  test("an invoke without a source hash is refused with ERR_VERSION_MISMATCH", async () => {
    const { peer: h } = await hub();
    const raw = await RawClient.open(h.url);
    await raw.hello("nohash");
    const n = raw.frames.length;
    raw.send({ type: "invoke", id: 3, fn: add.id, args: [1, 2] });
    const answer = await raw.next(n);
    expect(answer).toMatchObject({ type: "error", id: 3, code: "ERR_VERSION_MISMATCH" });
    expect(answer.message).toContain("without a source hash");
    raw.send({ type: "invoke", id: 4, fn: add.id, args: [1, 2], hash: add.hash });
    expect(await raw.next(n + 1)).toMatchObject({ type: "result", id: 4, value: 3 });
    await raw.close();
  });

  test("results and errors for ids no call awaits count as protocol errors until the link closes", async () => {
    const { peer: h } = await hub({ limits: { maxProtocolErrors: 4 } });
    const raw = await RawClient.open(h.url);
    await raw.hello("stray");
    for (let i = 1; i <= 3; i++) raw.send({ type: "result", id: 900 + i, value: i });
    for (let i = 1; i <= 2; i++)
      raw.send({ type: "error", id: 800 + i, code: "ERR_REMOTE_THROWN", name: "Error", message: "stray" });
    expect(await raw.whenClosed()).toMatchObject({ code: 1002, reason: "too many malformed frames" });
    expect(h.isConnected("stray")).toBe(false);
  });

  test("a ping flood is answered at a bounded rate and then counted", async () => {
    const { peer: h } = await hub({ limits: { maxProtocolErrors: 4 } });
    const raw = await RawClient.open(h.url);
    await raw.hello("pinger");
    const n = raw.frames.length;
    for (let i = 0; i < 30; i++) raw.send({ type: "ping" });
    expect(await raw.whenClosed()).toMatchObject({ code: 1002 });
    const pongs = raw.frames.slice(n).filter((f) => (f as { type: string }).type === "pong").length;
    expect(pongs).toBeLessThanOrEqual(10);
    expect(h.isConnected("pinger")).toBe(false);
  });

  test("connection-level error frames count, and their reports to onError are rate-limited", async () => {
    const reports: string[] = [];
    const { peer: h } = await hub({
      limits: { maxProtocolErrors: 1_000 },
      onError: (_e, where) => reports.push(where),
    });
    const raw = await RawClient.open(h.url);
    await raw.hello("noisy");
    for (let i = 0; i < 300; i++)
      raw.send({ type: "error", code: "ERR_PROTOCOL", name: "RemoteError", message: `noise ${i}` });
    // a real frame after the noise: once it is answered, every error frame was read
    const n = raw.frames.length;
    raw.send({ type: "invoke", id: 1, fn: add.id, args: [2, 2], hash: add.hash });
    expect(await raw.next(n)).toMatchObject({ type: "result", id: 1, value: 4 });
    expect(reports.filter((w) => w === "remote").length).toBeLessThanOrEqual(20);
    await raw.close();

    // with the default bound, the noise closes the link
    const { peer: h2 } = await hub({ id: "hub2" });
    const raw2 = await RawClient.open(h2.url);
    await raw2.hello("noisy");
    for (let i = 0; i < 30; i++)
      raw2.send({ type: "error", code: "ERR_PROTOCOL", name: "RemoteError", message: `noise ${i}` });
    expect(await raw2.whenClosed()).toMatchObject({ code: 1002 });
    await eventually(() => !h2.isConnected("noisy"), "the hub dropped the noisy link");
  });
});
