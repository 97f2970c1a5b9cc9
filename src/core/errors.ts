/**
 * Typed errors; they live in the kernel, which raises most of them (re-exported here).
 * @module
 */
export * from "./kernel/errors.js";
