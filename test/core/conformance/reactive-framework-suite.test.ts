/**
 * The whole of `reactive-framework-test-suite` (163 cases, behavioural-difference section aside)
 * against spindel, in a root context and in a fork. Every case must pass.
 */
import { SkipTest, setExpect, testSuite } from "reactive-framework-test-suite";
import { type Context, createContext } from "spindel";
import { describe, expect, test } from "vitest";
import { spindelFramework } from "./adapter.js";

setExpect(expect as unknown as Parameters<typeof setExpect>[0]);

const where: [string, () => Context][] = [
  ["root context", () => createContext({ onError: () => {} })],
  ["fork", () => createContext({ onError: () => {} }).fork()],
];

describe.each(where)("reactive-framework-test-suite in a %s", (label, make) => {
  for (const section of testSuite) {
    if (section.type === "behavioral") continue;
    describe(section.section, () => {
      for (const [name, run] of Object.entries(section.cases)) {
        test(name, async () => {
          const fw = spindelFramework(make(), `spindel (${label})`);
          try {
            await run(fw);
          } catch (err) {
            // no capability of the suite is missing in spindel: a skip is a failure here
            if (err instanceof SkipTest) throw new Error(`skipped: ${err.reason}`);
            throw err;
          }
        });
      }
    });
  }
});
