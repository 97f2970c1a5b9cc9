/**
 * Runs a distributed test file over the in-memory network instead of real sockets: the wrapper
 * installs a seeded {@link SimNetwork} as the default transport, then imports the suite, so every
 * `Peer.listen` / `Peer.connect` in it (helpers included) links in memory.
 */
import "spindel/distributed";
import { SimNetwork } from "spindel/distributed/testing";
import { installTransport } from "../../../src/distributed/transport.js";

/** Install a fresh in-memory network (seeded) as the default transport of this test file. */
export function overMemory(seed = 1): SimNetwork {
  const net = new SimNetwork({ seed });
  installTransport(net.transport);
  return net;
}
