/**
 * Process-wide engine state; it lives in the kernel (re-exported here for the runtime modules).
 * @module
 */
export * from "./kernel/globals.js";
