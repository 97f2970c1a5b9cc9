/**
 * Workspaces on the simulated network (seeded delays, dropped links and redials): two followers and a
 * hub run random hand-offs, writes (through the local lease check and around it), forks, fork
 * writes and merges. Invariants: the hub accepts a write to a branch only from the one holder of
 * its lease at that moment; a refused merge changes nothing; once quiet, everyone converges on the
 * hub's checkout.
 */
import { createContext, signal } from "spindel";
import { Peer } from "spindel/distributed";
import { SimNetwork } from "spindel/distributed/testing";
import { describe, expect, it } from "vitest";
import type { WorkspaceDescriptor } from "../../../src/distributed/workspace/descriptor.js";
import { followWorkspace, hostWorkspace } from "../../../src/distributed/workspace/follow.js";
import { forkRemote, mergeForkRemote } from "../../../src/distributed/workspace/fork.js";
import { LeaseTable } from "../../../src/distributed/workspace/lease.js";
import { createWorkspacePeer } from "../../../src/distributed/workspace/peer.js";
import { type ObservableStore, observable } from "../../../src/distributed/workspace/replicate.js";
import { openStoredMap } from "../../../src/distributed/workspace/stored-map.js";
import { eventually, track } from "../helpers.js";
import { rng } from "../sync/sim.js";
import { MemStore } from "./mem-store.js";

/** A lease table that records every decision it makes on a write. */
class AuditedLeases extends LeaseTable {
  readonly decisions: Array<{ principal: unknown; branch: string; allowed: boolean; holders: string[] }> = [];
  override mayWriteOrClaim(principal: unknown, branch: string): boolean {
    const allowed = super.mayWriteOrClaim(principal, branch);
    const holders = this.entries()
      .filter(([b]) => b === branch)
      .map(([, h]) => h);
    this.decisions.push({ principal, branch, allowed, holders });
    return allowed;
  }
}

async function run(seed: number, steps: number) {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const net = new SimNetwork({ seed, minDelayMs: 0, maxDelayMs: 4 });
  const hubCtx = createContext({ name: "hub" });
  const hubPeer = track(await Peer.listen({ id: "hub", transport: net.transport, context: hubCtx }));
  const hubStore = observable(new MemStore());
  const hubMap = await openStoredMap(hubStore, { id: "doc" });
  await hubMap.set("n", 0);
  const pin = async () => ({ branch: "main", head: (await hubMap.head("main")) as string, topic: "f/doc" });
  const descriptor = signal<WorkspaceDescriptor | null>({
    branch: "main",
    owner: "hub",
    descriptorTopic: "f/desc",
    systems: { doc: await pin() },
  });
  const leases = new AuditedLeases({ hub: "hub" });
  hostWorkspace(hubPeer, {
    descriptorTopic: "f/desc",
    descriptor,
    context: hubCtx,
    stores: { doc: hubStore },
    leases,
  });

  const clients = await Promise.all(
    ["c1", "c2"].map(async (id) => {
      const peer = track(
        await Peer.connect({
          id,
          url: hubPeer.url as string,
          transport: net.transport,
          context: createContext(),
          reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
        }),
      );
      const ctx = createContext({ name: id });
      const store = observable(new MemStore());
      const map = await openStoredMap(store as ObservableStore, { id: "doc", create: false });
      const wp = createWorkspacePeer<string, Record<string, string>>({
        self: id,
        context: ctx,
        resolveSystem: (_s, _b, h) => h,
      });
      const follow = followWorkspace(wp, peer, "f/desc", {
        stores: { doc: store },
        publishBranches: ["main"],
      });
      return { id, peer, ctx, store, map, wp, follow, forks: 0 };
    }),
  );
  await eventually(() => clients.every((c) => c.wp.seated !== null), "first seats", 10_000);
  let refusedMerges = 0;
  let merges = 0;
  for (let step = 0; step < steps; step++) {
    const c = pick(clients);
    const op = pick(["handoff", "write", "sneak", "fork-merge", "partition", "hub-write"] as const);
    try {
      if (op === "handoff") {
        const to = pick(["hub", "c1", "c2"]);
        const holder = leases.holder("main");
        const d = hubCtx.get(descriptor) as WorkspaceDescriptor;
        if (holder === "hub") hubCtx.set(descriptor, { ...d, owner: to });
        else {
          const h = clients.find((x) => x.id === holder);
          const cur = h?.wp.descriptor;
          if (h !== undefined && cur !== null && cur !== undefined)
            h.follow.publishDescriptor({ ...cur, owner: to });
        }
      } else if (op === "write") {
        await c.wp.write("doc", async () => {
          await c.map.checkout("main");
          await c.map.set("n", step);
        });
      } else if (op === "sneak") {
        await c.map.checkout("main");
        await c.map.set(`sneak-${c.id}`, step);
      } else if (op === "hub-write") {
        if (leases.holder("main") === "hub") {
          await hubMap.set("n", -step);
          const d = hubCtx.get(descriptor) as WorkspaceDescriptor;
          hubCtx.set(descriptor, { ...d, systems: { doc: await pin() } });
        }
      } else if (op === "partition") {
        // the link drops (a partition the heartbeat noticed); the client redials and re-handshakes
        hubPeer.disconnect(c.id);
      } else {
        const parent = c.wp.descriptor;
        if (parent === null) continue;
        const name = `fork-${c.id}-${++c.forks}`;
        const fork = await forkRemote(c.wp, parent, name, c.id, { doc: c.map });
        await c.map.checkout(name);
        await c.map.set(pick(["n", "a", "b"]), `${name}`);
        const before = await c.map.head("main");
        const r = await mergeForkRemote(fork, { doc: c.map });
        if (Object.keys(r.conflicts).length > 0) {
          refusedMerges++;
          expect(r.merged).toEqual({});
          expect(await c.map.head("main")).toBe(before); // a refused merge changes nothing
        } else if (r.error === undefined) merges++;
        c.wp.setDescriptor(parent); // back to following the parent
      }
    } catch (e) {
      expect((e as { code?: string }).code).toBe("ERR_NOT_LEASE_HOLDER");
    }
    await net.idle();
  }
  // the hub accepted a write only from the single lease holder of its branch at that moment
  for (const d of leases.decisions) {
    expect(d.holders.length).toBeLessThanOrEqual(1);
    if (d.allowed) expect(d.holders).toEqual([d.principal]);
  }
  // quiet: hub republishes its checkout at its current head; everyone converges on it
  const final = { ...(hubCtx.get(descriptor) as WorkspaceDescriptor), systems: { doc: await pin() } };
  hubCtx.set(descriptor, { ...final, owner: "hub" });
  const hubHead = (await hubMap.head("main")) as string;
  await eventually(
    async () => {
      for (const c of clients) {
        if ((await c.map.head("main")) !== hubHead) return false;
        if (c.wp.seated?.systems.doc?.head !== hubHead) return false;
      }
      return true;
    },
    `seed ${seed}: followers converge`,
    10_000,
  );
  return { decisions: leases.decisions.length, refusedMerges, merges };
}

describe("workspace fuzz on the simulated network", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: one lease holder per branch, refused merges change nothing, convergence`, {
      timeout: 60_000,
    }, async () => {
      const r = await run(seed, 40);
      expect(r.decisions).toBeGreaterThan(0);
    });
  }
});
