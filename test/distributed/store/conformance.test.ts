/**
 * The exported store conformance suite on the Node backends: memory, and LevelDB on disk in a
 * temporary directory (the IndexedDB backend runs it in Chromium, test/browser/store.test.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { levelStore, memoryStore } from "spindel/distributed";
import { storeConformance } from "spindel/distributed/testing";
import { afterAll, describe, it } from "vitest";

storeConformance("memory", () => memoryStore(), { describe, it });

const dir = mkdtempSync(join(tmpdir(), "spindel-level-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
storeConformance("level", (name) => levelStore(join(dir, name)), { describe, it }, { persistent: true });
