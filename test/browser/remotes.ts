/**
 * Remote functions shared by the browser page and the Node hub of `browser.test.ts`: both compile
 * this module through the spindel Vite plugin, so both register the same ids and source hashes.
 */
import { signal } from "spindel";
import { remoteFn, type Scope, spinRemote } from "spindel/distributed";

/** State of whichever context a call runs in (the hub's, for calls from the browser). */
export const counter = signal(0);

/** Abort reasons seen by `hang` bodies, by key (read by the Node side of the test). */
export const aborts = new Map<string, (reason: unknown) => void>();

/** Adds `n` to the counter where it runs; answers the new value. */
export const bump = remoteFn(function bump(scope: Scope, n: number) {
  return spinRemote(scope, [n], async ($) => {
    const next = $.peek(counter) + n;
    $.set(counter, next);
    return next;
  });
});

/** Answers its argument (a CBOR round trip each way). */
export const echo = remoteFn(function echo(scope: Scope, value: unknown) {
  return spinRemote(scope, [value], async () => value);
});

/** Throws a RangeError with data. */
export const fail = remoteFn(function fail(scope: Scope, message: string) {
  return spinRemote(scope, [message], async () => {
    throw Object.assign(new RangeError(message), { data: { why: "asked to" } });
  });
});

/** Waits until cancelled; reports the abort through `aborts`. */
export const hang = remoteFn(function hang(scope: Scope, key: string) {
  return spinRemote(scope, [key], async ($) => {
    $.signal.addEventListener("abort", () => aborts.get(key)?.($.signal.reason));
    return $.await(new Promise<never>(() => {}));
  });
});

/** Where the body ran: "node", or the browser's user agent family. */
export const whereAmI = remoteFn(function whereAmI(scope: Scope) {
  return spinRemote(scope, [], async () =>
    typeof navigator !== "undefined" && navigator.userAgent.includes("Chrome") ? "chromium" : "node",
  );
});
