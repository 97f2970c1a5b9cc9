import { createContext, signal } from "spindel";
import { Peer } from "spindel/distributed";
const ctx = createContext();
export const p = Peer.connect({ id: "tab", url: "ws://127.0.0.1:1", context: ctx, wait: false });
export const s = signal(1);
document.title = String(ctx.get(s));
