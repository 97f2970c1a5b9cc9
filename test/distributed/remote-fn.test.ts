/**
 * The full path users take: `remoteFn` + `spinRemote` compiled by the Vite plugin, called over a
 * real WebSocket link, into a named context on the other peer.
 */
import { createContext } from "spindel";
import { RemoteError } from "spindel/distributed";
import { expect, test } from "vitest";
import { countOf, stock, take } from "./fixtures/inventory.js";
import { client, hub, rejection } from "./helpers.js";

test("compiled remote functions run on the remote peer, in the addressed context", async () => {
  const main = createContext({ name: "warehouse" });
  main.set(stock, new Map([["bolts", 10]]));
  const { peer: h } = await hub({ context: main });
  const branch = main.fork({ name: "branch" });
  h.contexts.register("branch", branch);
  const c = await client(h.url!);
  const server = c.remote("hub");
  const ctx = createContext();

  expect(await ctx.value(countOf(server, "bolts"))).toBe(10);
  expect(await ctx.value(take([server, "branch"], "bolts", 4))).toBe(6);
  expect(await ctx.value(countOf([server, "branch"], "bolts"))).toBe(6);
  expect(await ctx.value(countOf(server, "bolts"))).toBe(10); // the fork's write stays in the fork
  expect(main.get(stock).get("bolts")).toBe(10);

  const e = (await rejection(ctx.value(take(server, "nuts", 1)))) as unknown as RemoteError;
  expect(e).toBeInstanceOf(RemoteError);
  expect([e.code, e.name, e.message]).toEqual(["ERR_REMOTE_THROWN", "RangeError", "only 0 nuts left"]);
  expect(e.data).toEqual({ item: "nuts", have: 0, wanted: 1 });
  expect(e.fn).toMatch(/^test\/distributed\/fixtures\/inventory:take:/);
});
