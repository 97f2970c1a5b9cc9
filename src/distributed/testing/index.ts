/**
 * `spindel/distributed/testing`: a deterministic in-memory network for peers (seeded faults,
 * partitions, crash and restart), and the conformance suites adapters pass (links, stores).
 * @module
 */

export type {
  SimFaults,
  SimFilter,
  SimMessage,
  SimNetworkOptions,
  SimStats,
  SimVerdict,
} from "../net/adapters/memory.js";
export { MemoryLink, SimNetwork, seededRandom } from "../net/adapters/memory.js";
export type {
  AcceptedLink,
  DialLinkOptions,
  Link,
  LinkEvents,
  LinkServer,
  LinkTransport,
  ListenLinkOptions,
} from "../net/link.js";
export { LinkState } from "../net/link.js";
export type { LinkPair, SuiteRunner } from "./link-conformance.js";
export { linkConformance } from "./link-conformance.js";
export type { StoreConformanceOptions, StoreFactory } from "./store-conformance.js";
export { storeConformance } from "./store-conformance.js";
