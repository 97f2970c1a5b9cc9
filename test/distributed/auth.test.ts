/**
 * Authentication (hello credential → principal) and authorization (principal × function ×
 * context) on the listening side; origin checks; hello timeouts.
 */
import { createContext } from "spindel";
import { type HelloInfo, invokeRemote, Peer, RemoteError } from "spindel/distributed";
import { describe, expect, test } from "vitest";
import {
  client,
  defineRemote,
  hub,
  RawClient,
  rejection,
  socketDescribe,
  socketTest,
  until,
} from "./helpers.js";

const add = defineRemote(["x", "y"], (x, y) => () => (x as number) + (y as number), "add");
const secret = defineRemote([], () => () => "the secret", "secret");

describe("authentication", () => {
  test("refused: Peer.connect rejects with ERR_UNAUTHORIZED and does not retry, even with reconnect", async () => {
    let attempts = 0;
    const { peer: h } = await hub({
      authenticate: () => {
        attempts++;
        return false;
      },
    });
    const e = (await rejection(
      Peer.connect({ id: "intruder", url: h.url!, credential: "wrong", reconnect: { initialDelayMs: 1 } }),
    )) as unknown as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.code).toBe("ERR_UNAUTHORIZED");
    expect(e.message).toBe("authentication refused");
    expect(attempts).toBe(1);
    expect(h.connectedPeers()).toEqual([]);
  });

  test("a RemoteError thrown by authenticate is forwarded; other errors are not", async () => {
    const where: string[] = [];
    const { peer: h } = await hub({
      onError: (_e, w) => where.push(w),
      authenticate: ({ credential }) => {
        if (credential === "expired")
          throw new RemoteError("ERR_UNAUTHORIZED", "token expired", { data: { at: 5 } });
        throw new Error("database password is hunter2");
      },
    });
    const expired = (await rejection(
      Peer.connect({ id: "a", url: h.url!, credential: "expired" }),
    )) as unknown as RemoteError;
    expect([expired.code, expired.message, expired.data]).toEqual([
      "ERR_UNAUTHORIZED",
      "token expired",
      { at: 5 },
    ]);
    const leaky = (await rejection(
      Peer.connect({ id: "b", url: h.url!, credential: "x" }),
    )) as unknown as RemoteError;
    expect(leaky.code).toBe("ERR_UNAUTHORIZED");
    expect(leaky.message).not.toContain("hunter2");
    expect(where).toContain("authenticate");
  });

  socketTest(
    "accepted: the principal is kept per link and handed to authorize with the function and context",
    async () => {
      const seen: { hello: Omit<HelloInfo, "request">; ua: string | undefined }[] = [];
      const checks: unknown[][] = [];
      const { peer: h, ctx } = await hub({
        authenticate: async (hello) => {
          seen.push({
            hello: { peerId: hello.peerId, credential: hello.credential },
            ua: hello.request?.headers["x-app"] as string | undefined,
          });
          const token = (hello.credential as { token?: string } | undefined)?.token;
          return token === "s3cret" ? { user: "ada", roles: new Set(["admin"]) } : null;
        },
        authorize: (principal, fn, contextId, peerId) => {
          checks.push([principal, fn, contextId, peerId]);
          return true;
        },
      });
      h.contexts.register("room-1", ctx.fork());
      const c = await client(h.url!, { credential: { token: "s3cret" }, headers: { "x-app": "tests" } });
      expect(seen).toEqual([{ hello: { peerId: "c1", credential: { token: "s3cret" } }, ua: "tests" }]);
      expect(h.principalOf("c1")).toEqual({ user: "ada", roles: new Set(["admin"]) });
      expect(await createContext().value(invokeRemote(add, [c.remote("hub"), "room-1"], [1, 2]))).toBe(3);
      expect(checks).toEqual([[{ user: "ada", roles: new Set(["admin"]) }, add.id, "room-1", "c1"]]);
      const refused = (await rejection(
        Peer.connect({ id: "c2", url: h.url!, credential: { token: "nope" } }),
      )) as unknown as RemoteError;
      expect(refused.code).toBe("ERR_UNAUTHORIZED");
    },
  );

  test("without authenticate, the principal is the peer id", async () => {
    const { peer: h } = await hub();
    await client(h.url!, { id: "plain" });
    expect(h.principalOf("plain")).toBe("plain");
  });

  test("a client claiming the listener's own id is refused", async () => {
    const { peer: h } = await hub();
    const e = (await rejection(Peer.connect({ id: "hub", url: h.url! }))) as unknown as RemoteError;
    expect(e.code).toBe("ERR_UNAUTHORIZED");
    expect(e.message).toContain("own id");
  });

  test("a second link with the same peer id replaces the first", async () => {
    const { peer: h } = await hub();
    const health = createContext();
    const first = await client(h.url!, { id: "dup", context: health });
    const second = await client(h.url!, { id: "dup" });
    await until(health, first.remote("hub").connected, (v) => !v);
    expect(await createContext().value(invokeRemote(add, second.remote("hub"), [1, 1]))).toBe(2);
    expect(h.connectedPeers()).toEqual(["dup"]);
  });

  socketTest("a connection that never says hello is closed after connectTimeoutMs", async () => {
    const { peer: h } = await hub({ connectTimeoutMs: 50 });
    const silent = await RawClient.open(h.url!);
    expect(await silent.whenClosed(2_000)).toMatchObject({
      code: 1008,
      reason: expect.stringMatching(/no hello within 50 ms/),
    });
  });
});

describe("authorization", () => {
  test("authorize refuses per function and per context with ERR_UNAUTHORIZED", async () => {
    const { peer: h, ctx } = await hub({
      authenticate: ({ peerId }) => ({ name: peerId, admin: peerId === "root" }),
      authorize: (principal, fn, contextId) => {
        const p = principal as { admin: boolean };
        if (fn === secret.id) return p.admin;
        return contextId !== "vault" || p.admin;
      },
    });
    h.contexts.register("vault", ctx.fork());
    const guest = await client(h.url!, { id: "guest" });
    const root = await client(h.url!, { id: "root" });
    const c = createContext();
    expect(await c.value(invokeRemote(add, guest.remote("hub"), [1, 1]))).toBe(2);
    const noSecret = (await rejection(
      c.value(invokeRemote(secret, guest.remote("hub"), [])),
    )) as unknown as RemoteError;
    expect(noSecret.code).toBe("ERR_UNAUTHORIZED");
    expect(noSecret.message).toContain(secret.id);
    const noVault = (await rejection(
      c.value(invokeRemote(add, [guest.remote("hub"), "vault"], [1, 1])),
    )) as unknown as RemoteError;
    expect(noVault.code).toBe("ERR_UNAUTHORIZED");
    expect(noVault.message).toContain("vault");
    expect(await c.value(invokeRemote(secret, root.remote("hub"), []))).toBe("the secret");
    expect(await c.value(invokeRemote(add, [root.remote("hub"), "vault"], [2, 2]))).toBe(4);
  });

  test("async authorize, and an authorize that throws or returns a non-boolean refuses", async () => {
    const where: string[] = [];
    const { peer: h } = await hub({
      onError: (_e, w) => where.push(w),
      authorize: async (_p, fn) => {
        await Promise.resolve();
        if (fn === secret.id) throw new Error("policy store down");
        return "yes" as unknown as boolean;
      },
    });
    const c = await client(h.url!);
    const thrown = (await rejection(
      createContext().value(invokeRemote(secret, c.remote("hub"), [])),
    )) as unknown as RemoteError;
    expect(thrown.code).toBe("ERR_UNAUTHORIZED");
    expect(thrown.message).not.toContain("policy store");
    expect(where).toContain("authorize");
    const truthy = (await rejection(
      createContext().value(invokeRemote(add, c.remote("hub"), [1, 1])),
    )) as unknown as RemoteError;
    expect(truthy.code).toBe("ERR_UNAUTHORIZED");
  });

  test("authorize applies to calls in both directions of a link", async () => {
    const hubCtx = createContext();
    const { peer: h } = await hub({ context: hubCtx });
    const clientCtx = createContext();
    await client(h.url!, { context: clientCtx, authorize: (principal) => principal !== undefined });
    // the client authenticated nobody (it dialed): its principal for the listener is undefined -> refused
    const e = (await rejection(
      hubCtx.value(invokeRemote(add, h.remote("c1"), [1, 1])),
    )) as unknown as RemoteError;
    expect(e.code).toBe("ERR_UNAUTHORIZED");
  });
});

socketDescribe("origins", () => {
  socketTest("browser connections from an origin not in the list are refused at the upgrade", async () => {
    const { peer: h } = await hub({ origins: ["https://app.example"] });
    await expect(RawClient.open(h.url!, { headers: { origin: "https://evil.example" } })).rejects.toThrow();
    const ok = await RawClient.open(h.url!, { headers: { origin: "https://app.example" } });
    expect((await ok.hello("browser")).type).toBe("hello");
    await ok.close();
    const cli = await RawClient.open(h.url!); // no Origin: not a browser
    expect((await cli.hello("cli")).type).toBe("hello");
    await cli.close();
  });
});
