/**
 * `spindel/distributed` on Node: peers that listen and connect over `ws`, remote functions, the
 * context registry and bridges.
 * @module
 */
import "./transport-node.js";

export * from "./api.js";

// Stores: LevelDB on disk (Node only)
export type { LevelStoreOptions } from "./store/adapters/level.js";
export { levelBackend, levelStore } from "./store/adapters/level.js";
