/**
 * `spindel/hub` (Node): the hub as a library — {@link startHub} runs what `spindel hub` runs
 * (a listening peer owning every topic its clients open, a durable journal, optional scale-out on
 * Redis Streams, `/health` and `/metrics`) — plus the Redis bus and the CLI's entry points.
 * @module
 */
export { HUB_USAGE, type HubArgs, type HubIo, hubMain, parseHubArgs, processIo } from "./cli.js";
export { HubError, type HubErrorCode } from "./errors.js";
export type { HubMetrics } from "./http.js";
export { type Hub, type HubOptions, startHub } from "./hub.js";
export { type BusEntry, type BusHandler, RedisStreamBus, type RedisStreamBusOptions } from "./redis-bus.js";
