import { createContext } from "spindel";
import { Peer, remoteFn, type Scope, spinRemote } from "spindel/distributed";
export const shout = remoteFn(function shout(scope: Scope, text: string) {
  return spinRemote(scope, [text], async () => text.toUpperCase());
});
const ctx = createContext();
const peer = await Peer.connect({ id: "tab", url: "ws://127.0.0.1:1", context: ctx, wait: false });
document.title = String(peer.status);
