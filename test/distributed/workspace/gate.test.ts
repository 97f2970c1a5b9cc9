import { describe, expect, it } from "vitest";
import {
  assertDescriptor,
  claim,
  descriptorEquals,
  forkDescriptor,
  gate,
  mergeHeadUpdate,
  release,
  type WorkspaceDescriptor,
  writable,
} from "../../../src/distributed/workspace/descriptor.js";
import { isWorkspaceError } from "../../../src/distributed/workspace/errors.js";

const d: WorkspaceDescriptor = {
  branch: "main",
  owner: "server",
  descriptorTopic: "room/desc",
  systems: {
    docs: { branch: "main", head: "h1", topic: "room/docs" },
    tags: { branch: "main", head: "t1", topic: "room/tags", role: "bidirectional" },
  },
};

describe("gate", () => {
  it("an empty descriptor is never ready", () => {
    expect(gate({ branch: "main", systems: {} }, {}).ready).toBe(false);
    expect(gate(null, {}).ready).toBe(false);
  });

  it("is pending until every pinned head is local, then ready", () => {
    let heads = {};
    let g = gate(d, heads);
    expect(g.ready).toBe(false);
    expect([...g.pending].sort()).toEqual(["docs", "tags"]);
    expect(g.statuses.docs).toEqual({ target: "h1", local: null, reached: false });
    heads = mergeHeadUpdate(heads, "docs", "main", "h1");
    g = gate(d, heads);
    expect([...g.pending]).toEqual(["tags"]);
    expect(g.statuses.docs).toEqual({ target: "h1", local: "h1", reached: true });
    heads = mergeHeadUpdate(heads, "tags", "main", "t1");
    g = gate(d, heads);
    expect(g.ready).toBe(true);
    expect(g.pending.size).toBe(0);
  });

  it("a head on the wrong branch does not count; an older head is not reached", () => {
    let heads = mergeHeadUpdate({}, "docs", "other", "h1");
    heads = mergeHeadUpdate(heads, "tags", "main", "t1");
    expect(gate(d, heads).pending).toEqual(new Set(["docs"]));
    heads = mergeHeadUpdate(heads, "docs", "main", "h0");
    expect(gate(d, heads).statuses.docs).toEqual({ target: "h1", local: "h0", reached: false });
  });

  it("mergeHeadUpdate is a pure assoc-in", () => {
    const a = mergeHeadUpdate({}, "docs", "main", "h1");
    const b = mergeHeadUpdate(a, "docs", "fork", "h2");
    expect(a).toEqual({ docs: { main: "h1" } });
    expect(b).toEqual({ docs: { main: "h1", fork: "h2" } });
  });
});

describe("lease", () => {
  it("writable holds only for the named owner", () => {
    expect(writable(d, "server")).toBe(true);
    expect(writable(d, "client")).toBe(false);
    expect(writable(d, undefined)).toBe(false);
    expect(writable(d, "")).toBe(false);
    expect(writable(release(d), "server")).toBe(false);
    expect(writable(null, "server")).toBe(false);
  });

  it("claim hands the lease to a new owner (a new descriptor)", () => {
    const c = claim(d, "client");
    expect(writable(c, "client")).toBe(true);
    expect(writable(c, "server")).toBe(false);
    expect(d.owner).toBe("server");
  });
});

describe("forkDescriptor", () => {
  it("re-points every system to the fork branch at the parent head, claims, anchors forkOf", () => {
    const f = forkDescriptor(d, "fork-1", "client");
    expect(f.branch).toBe("fork-1");
    expect(f.owner).toBe("client");
    expect(f.descriptorTopic).toBe("room/desc");
    expect(f.systems.docs).toEqual({ branch: "fork-1", head: "h1", topic: "room/docs" });
    expect(f.systems.tags).toEqual({
      branch: "fork-1",
      head: "t1",
      topic: "room/tags",
      role: "bidirectional",
    });
    expect(f.forkOf).toEqual({ branch: "main", heads: { docs: "h1", tags: "t1" } });
    expect(d.branch).toBe("main");
  });

  it("a follower of the parent needs only the fork's branch pointers for the gate", () => {
    const f = forkDescriptor(d, "fork-1", "client");
    let heads = mergeHeadUpdate(mergeHeadUpdate({}, "docs", "main", "h1"), "tags", "main", "t1");
    expect(gate(f, heads).ready).toBe(false);
    heads = mergeHeadUpdate(mergeHeadUpdate(heads, "docs", "fork-1", "h1"), "tags", "fork-1", "t1");
    expect(gate(f, heads).ready).toBe(true);
  });
});

describe("descriptor data", () => {
  it("equality is by value, not identity or key order", () => {
    const copy = JSON.parse(JSON.stringify(d)) as WorkspaceDescriptor;
    expect(descriptorEquals(d, copy)).toBe(true);
    expect(descriptorEquals(d, { ...d, owner: "x" })).toBe(false);
    expect(
      descriptorEquals(d, {
        systems: d.systems,
        branch: "main",
        descriptorTopic: "room/desc",
        owner: "server",
      }),
    ).toBe(true);
  });

  it("assertDescriptor refuses malformed data with ERR_INVALID_DESCRIPTOR", () => {
    expect(() => assertDescriptor(d)).not.toThrow();
    for (const bad of [
      null,
      3,
      { branch: 1, systems: {} },
      { branch: "m" },
      { branch: "m", systems: { a: { branch: "m" } } },
    ]) {
      let err: unknown;
      try {
        assertDescriptor(bad);
      } catch (e) {
        err = e;
      }
      expect(isWorkspaceError(err, "ERR_INVALID_DESCRIPTOR")).toBe(true);
    }
  });
});
