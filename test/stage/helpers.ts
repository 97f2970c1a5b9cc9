/** Helpers of the stage tests: temporary directories removed after each test. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed after the test. */
export async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "spindel-stage-"));
  dirs.push(d);
  return d;
}
