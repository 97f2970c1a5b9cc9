import { remoteFn, type Scope, spinRemote } from "spindel/distributed";
export const leak = remoteFn(function leak(scope: Scope, secret: string) {
  return spinRemote(scope, [], async () => secret);
});
