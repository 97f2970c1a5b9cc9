/**
 * The one-shot wait protocol; it lives in the kernel (re-exported here for primitives).
 * @module
 */
export * from "./kernel/awaitable.js";
