/**
 * Over real sockets (127.0.0.1, port 0): a hub closes its workspace and hosts it again; a follower
 * told `ERR_NO_TOPIC` on the descriptor and on every content topic retries (the default) and seats
 * the hub's next checkout on the same link (the client peer does not reconnect).
 */
import { describe, expect, it } from "vitest";
import { eventually, until } from "../helpers.js";
import { follower, hostRoom } from "./room.js";

describe("workspace follow over sockets: a hub that hosts the workspace again", () => {
  it("content subscriptions told ERR_NO_TOPIC retry and re-join; the follower seats the new checkout", async () => {
    const room = await hostRoom(["left", "right"]);
    await room.commit((_id, m) => m.set("v", 1));
    const f = await follower(room.peer.url, "c1", ["left", "right"]);
    await until(f.ctx, f.wp.workspace, (s) => s?.left?.v === 1 && s?.right?.v === 1, 10_000);

    room.host.close();
    const refused = (topic: string) =>
      f.errors.some((e) => e.code === "ERR_NO_TOPIC" && (e as { topic?: unknown }).topic === topic);
    await eventually(
      () => refused("room/desc") && refused("room/left") && refused("room/right"),
      "ERR_NO_TOPIC on the descriptor and both content topics",
      10_000,
    );

    // the hub hosts the workspace again and moves on: the new content reaches the follower only
    // through content subscriptions that re-joined (the client peer never reconnects)
    room.hostAgain();
    await room.commit((_id, m) => m.set("v", 2));
    const seat = await until(f.ctx, f.wp.workspace, (s) => s?.left?.v === 2 && s?.right?.v === 2, 10_000);
    expect(seat?.left).toEqual(seat?.right);
    expect(f.wp.seated?.systems.left?.head).toBe(await room.maps.left?.head("main"));
    f.follow.close();
  });
});
