/**
 * spinRemote.unchecked with an undeclared capture: the compiler only warns (SPINDEL001), and since
 * the body is hoisted to module level the capture is unbound there — the call fails on the callee
 * with a ReferenceError instead of silently using the caller's value.
 */
import { remoteFn, type Scope, spinRemote } from "spindel/distributed";

export const leaky = remoteFn(function leaky(scope: Scope, x: number) {
  const secret = x * 100;
  return spinRemote.unchecked(scope, [x], async () => x + secret);
});
