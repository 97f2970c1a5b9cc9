/**
 * A content subscription's `ready` and refusals (real sockets, 127.0.0.1 port 0). A refused
 * **publish** (a pointer write to a branch leased to someone else) is not a refusal of the
 * subscription: even when it comes before the first handshake completes, `ready` resolves, the
 * refusal goes to `onError`, and the same subscription's fresh handshake puts the owner's pointer
 * back. A refused **subscribe** rejects `ready` with its own code and is final: no resubscribe loop.
 */
import { createContext } from "spindel";
import { describe, expect, it } from "vitest";
import { Topics } from "../../../src/distributed/sync/topics.js";
import { observable, subscribeContent } from "../../../src/distributed/workspace/replicate.js";
import { headKey } from "../../../src/distributed/workspace/stored-map.js";
import { client, eventually, hub, rejection, within } from "../helpers.js";
import { MemStore } from "./mem-store.js";
import { hostRoom } from "./room.js";

describe("a content subscription's ready", () => {
  it("a publish refused (ERR_NOT_LEASE_HOLDER) before the first handshake completes does not reject ready", async () => {
    const room = await hostRoom(["doc"]);
    await room.commit((_id, m) => m.set("title", "hub's"));
    const hubHead = (await room.maps.doc?.head("main")) as string;
    const peer = await client(room.peer.url, { id: "c1" });
    const store = observable(new MemStore());
    const errors: Array<{ code?: string }> = [];
    const heads: string[] = [];
    const t = subscribeContent(peer, "room/doc", store, {
      publish: true,
      onHead: (b, h) => void (b === "main" && heads.push(h)),
      onError: (e) => void errors.push(e as { code?: string }),
    });
    // a pointer write to main (the hub holds its lease), published while the subscribe is in flight:
    // the hub refuses it before it can send the handshake's DONE (that needs this side's ACK)
    void store.putMany([[headKey("main"), "not-the-hub's"]]);
    await within(t.ready, 5_000, "ready");
    await eventually(() => errors.some((e) => e.code === "ERR_NOT_LEASE_HOLDER"), "the refusal in onError");
    expect(errors.filter((e) => e.code !== "ERR_NOT_LEASE_HOLDER")).toEqual([]);
    // the refused pointer is undone: the owner's comes back, with its content
    await eventually(async () => (await store.get(headKey("main"))) === hubHead, "the hub's pointer back");
    expect(await store.has(hubHead)).toBe(true);
    expect(heads.at(-1)).toBe(hubHead);
    // the subscription goes on: the hub's next commit arrives
    await room.commit((_id, m) => m.set("title", "hub's v2"));
    const next = (await room.maps.doc?.head("main")) as string;
    await eventually(async () => (await store.get(headKey("main"))) === next, "the next commit");
    t.close();
  });

  it("a subscribe refused with ERR_NOT_LEASE_HOLDER rejects ready with that code, once", async () => {
    const h = await hub({ context: createContext({ name: "owner" }) });
    /** A topic that counts the subscribes it is asked about and answers each with `decision`. */
    const counting = (topic: string, decision: true | string) => {
      const asked = { count: 0 };
      Topics.of(h.peer).register(
        topic,
        { handshake: () => [], publish: (p) => p },
        {
          authorizeSubscribe: () => {
            asked.count++;
            return decision;
          },
        },
      );
      return asked;
    };
    const content = counting("content", "ERR_NOT_LEASE_HOLDER");
    // a second topic, to know when the owner has handled everything sent before it
    const probes = counting("probe", true);
    const peer = await client(h.peer.url, { id: "c1" });
    const errors: Array<{ code?: string }> = [];
    const t = subscribeContent(peer, "content", observable(new MemStore()), {
      publish: true,
      onError: (e) => void errors.push(e as { code?: string }),
    });
    const e = await rejection(t.ready);
    expect(e.code).toBe("ERR_NOT_LEASE_HOLDER");
    // a round trip after the refusal: any resubscribe sent meanwhile has reached the owner by then
    for (let i = 0; i < 3; i++) {
      const probe = Topics.of(peer).subscribe("probe", {
        clientState: () => null,
        handshakeItem() {},
        publish() {},
      });
      await within(probe.ready, 5_000, "probe");
      probe.close();
    }
    expect(probes.count).toBe(3);
    expect(content.count).toBe(1);
    expect(errors.map((x) => x.code)).toEqual(["ERR_NOT_LEASE_HOLDER"]);
    t.close();
  });
});
