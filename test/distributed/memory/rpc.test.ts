/** The rpc suite over the in-memory network (see setup.ts); the same file runs over ws on its own. */
import { overMemory } from "./setup.js";

overMemory();
await import("../rpc.test.js");
