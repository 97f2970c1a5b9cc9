/**
 * What the valgrind tools share (instructions.ts, profile-lines.ts): the check that valgrind is
 * there, and the shapes' child process (instructions-child.ts) bundled by esbuild as an
 * application ships spindel.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Exit with a hint unless valgrind can be run. */
export function requireValgrind(): void {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    console.error("valgrind is not installed: apt-get install -y valgrind");
    process.exit(1);
  }
}

/** Bundle the shapes' child process to `bench/.out/<name>`; returns its path. */
export function bundleShapesChild(name: string): string {
  const outfile = join(here, ".out", name);
  buildSync({
    entryPoints: [join(here, "instructions-child.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile,
    logLevel: "warning",
  });
  return outfile;
}
