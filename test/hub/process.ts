/**
 * Hub processes for the tests: `node bin/spindel.mjs hub ...` spawned with its output captured;
 * `started` resolves with its URLs once it prints where it listens.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The `spindel` command of this checkout. */
export const BIN = path.join(root, "bin", "spindel.mjs");

/** A spawned hub process. */
export interface HubProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with its ws:// and http:// URLs once it listens (rejects if it exits first). */
  readonly started: Promise<{ url: string; httpUrl: string }>;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Sends a signal. */
  kill(signal: NodeJS.Signals): void;
}

const running = new Set<HubProcess>();

/** SIGKILL every hub still running (call in afterEach). */
export async function killAll(): Promise<void> {
  const all = [...running];
  running.clear();
  for (const h of all) h.kill("SIGKILL");
  await Promise.all(all.map((h) => h.exited));
}

/** Spawns `spindel hub <args>` in `cwd` (default: the repository). */
export function spawnHub(args: readonly string[], cwd = root): HubProcess {
  const child = spawn(process.execPath, [BIN, "hub", ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let onOut: (() => void) | null = null;
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
    onOut?.();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
    onOut?.();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const started = new Promise<{ url: string; httpUrl: string }>((resolve, reject) => {
    const check = () => {
      const ws = /listening on (ws:\/\/\S+)/.exec(out);
      const http = /health\s+(http:\/\/\S+)health/.exec(out);
      if (ws && http) {
        onOut = null;
        resolve({ url: ws[1] as string, httpUrl: http[1] as string });
      }
    };
    onOut = check;
    void exited.then((code) => reject(new Error(`hub exited (${code}) before listening:\n${out}`)));
  });
  started.catch(() => {});
  const h: HubProcess = {
    child,
    output: () => out,
    started,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
  running.add(h);
  void exited.then(() => running.delete(h));
  return h;
}
