import { remoteFn, type Scope, spinRemote } from "spindel/distributed";
export const add = remoteFn(function add(scope: Scope, x: number, y: number) {
  return spinRemote(scope, [x, y], async () => x + y);
});
