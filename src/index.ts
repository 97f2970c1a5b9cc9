/**
 * `spindel`: the core runtime. See docs/getting-started.md.
 * @module
 */
export * from "./core/index.js";
