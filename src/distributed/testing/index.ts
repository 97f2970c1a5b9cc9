/**
 * `spindel/distributed/testing`: the conformance suites adapters pass.
 * @module
 */
export type { StoreConformanceOptions, StoreFactory, StoreSuiteRunner } from "./store-conformance.js";
export { storeConformance } from "./store-conformance.js";
