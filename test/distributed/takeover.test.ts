/**
 * Link takeover (adversarial review): an incoming connection claiming the id of a peer this one
 * dialed must not take that link over, and replacing an incoming link needs the same principal.
 * Real sockets on 127.0.0.1, raw clients speaking CBOR by hand.
 */
import { createContext } from "spindel";
import { invokeRemote, Peer } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import { defineRemote, eventually, RawClient, track } from "./helpers.js";

const whoami = defineRemote([], () => () => "the real db", "takeover-whoami");

describe("an incoming link never takes over", () => {
  test("a raw client saying hello as the hub's upstream 'db' is refused; calls keep going to the real db", async () => {
    const db = track(await Peer.listen({ id: "db", context: createContext({ name: "db" }) }));
    const h = track(await Peer.listen({ id: "hub", context: createContext({ name: "hub" }) }));
    await h.connect({ url: db.url });
    expect(h.isConnected("db")).toBe(true);
    const impostor = await RawClient.open(h.url);
    const answer = await impostor.hello("db");
    expect(answer).toMatchObject({ type: "error", code: "ERR_UNAUTHORIZED" });
    expect(answer.message).toContain("dialed");
    await impostor.whenClosed();
    const ctx = createContext();
    expect(await ctx.value(invokeRemote(whoami, h.remote("db"), []))).toBe("the real db");
    expect(h.isConnected("db")).toBe(true);
    // nothing reached the impostor but the refusal
    expect(impostor.frames.filter((f) => (f as { type?: string }).type === "invoke")).toEqual([]);
  });

  test("alice's token with id 'bob' does not replace bob; bob reconnecting with his own token does", async () => {
    const tokens: Record<string, string> = { "tok-alice": "alice", "tok-bob": "bob" };
    const h = track(
      await Peer.listen({
        id: "hub",
        context: createContext({ name: "hub" }),
        authenticate: ({ credential }) => {
          const user = tokens[String(credential)];
          return user === undefined ? undefined : { user };
        },
      }),
    );
    const bob = track(
      await Peer.connect({
        id: "bob",
        url: h.url,
        credential: "tok-bob",
        context: createContext({ name: "bob" }),
      }),
    );
    await eventually(() => h.isConnected("bob"), "the hub sees bob");
    const mallory = await RawClient.open(h.url);
    const answer = await mallory.hello("bob", "tok-alice");
    expect(answer).toMatchObject({ type: "error", code: "ERR_UNAUTHORIZED" });
    expect(answer.message).toContain("another principal");
    await mallory.whenClosed();
    expect(h.principalOf("bob")).toEqual({ user: "bob" });
    expect(bob.isConnected("hub")).toBe(true);
    // the same principal replaces its own link (a reconnect after a half-dead socket)
    const again = await RawClient.open(h.url);
    expect(await again.hello("bob", "tok-bob")).toMatchObject({ type: "hello", peer: "hub" });
    await eventually(() => !bob.isConnected("hub"), "the old link of bob is replaced");
    expect(h.principalOf("bob")).toEqual({ user: "bob" });
    await again.close();
  });
});
