/**
 * The demo app: a shared todo list (an OR-Map synced through the hub), a presence list (one entry
 * per peer, written only by that peer), a "what if" workspace (a fork of the context: edit, then
 * merge back or see the conflict), and the sync's health. Served by `spindel hub --static`.
 */
import { type Context, createContext, signal, spin } from "spindel";
import { ORMap } from "spindel/crdt";
import { Peer, syncSignal } from "spindel/distributed";

/** One todo. */
export interface Todo {
  text: string;
  done: boolean;
}

type Todos = ORMap<string, Todo>;
type Presence = ORMap<string, { name: string }>;

const params = new URLSearchParams(location.search);
const me = `tab-${Math.random().toString(36).slice(2, 8)}`;
const name = params.get("name") ?? `Guest ${me.slice(4, 8)}`;
const hubUrl = params.get("hub") ?? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;

const ctx = createContext({ name: "demo" });
const todos = signal<Todos>(ORMap.empty<string, Todo>(me), { name: "todos" });
const presence = signal<Presence>(ORMap.empty<string, { name: string }>(me), { name: "presence" });

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

// the what-if workspace: a fork of `ctx` (its writes never reach the shared list until merged)
let fork: Context | null = null;
let forkBase: Todos | null = null;
const view = (): Context => fork ?? ctx;

const peer = await Peer.connect({
  id: me,
  url: hubUrl,
  context: ctx,
  credential: params.get("token") ?? undefined,
  reconnect: { initialDelayMs: 200, maxDelayMs: 3_000 },
  wait: false,
});
const todoSync = syncSignal(peer, "demo/todos", todos, { context: ctx });
syncSignal(peer, "demo/presence", presence, { context: ctx });
ctx.update(presence, (p) => p.set(me, { name }));
addEventListener("pagehide", () => ctx.update(presence, (p) => p.delete(me)));

function same(a: readonly Todo[], b: readonly Todo[]): boolean {
  const key = (xs: readonly Todo[]) =>
    xs
      .map((t) => JSON.stringify([t.text, t.done]))
      .sort()
      .join("|");
  return key(a) === key(b);
}

/** Todos changed both in the fork and in the shared list since the fork (to different values). */
function conflicts(base: Todos, live: Todos, mine: Todos): string[] {
  const keys = new Set([...live.keys(), ...mine.keys()]);
  const out: string[] = [];
  for (const k of keys) {
    const b = base.get(k);
    const l = live.get(k);
    const m = mine.get(k);
    if (!same(b, l) && !same(b, m) && !same(l, m)) out.push(k);
  }
  return out;
}

function newId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

function renderTodos(list: Todos): void {
  const ul = $<HTMLUListElement>("todos");
  ul.replaceChildren();
  const rows = list.entries().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [id, values] of rows) {
    const t = values[0] as Todo;
    const li = document.createElement("li");
    li.dataset.id = id;
    li.className = `todo${t.done ? " done" : ""}${values.length > 1 ? " conflict" : ""}`;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.className = "toggle";
    box.checked = t.done;
    box.addEventListener("change", () => view().update(todos, (m) => m.set(id, { ...t, done: box.checked })));
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = values.length > 1 ? values.map((v) => v.text).join(" ⟷ ") : t.text;
    const del = document.createElement("button");
    del.className = "delete";
    del.type = "button";
    del.textContent = "✕";
    del.title = "delete";
    del.addEventListener("click", () => view().update(todos, (m) => m.delete(id)));
    li.append(box, text, del);
    ul.append(li);
  }
  $("empty").hidden = rows.length > 0;
}

function renderPresence(p: Presence): void {
  const ul = $<HTMLUListElement>("presence");
  ul.replaceChildren();
  for (const [id, values] of p.entries()) {
    const li = document.createElement("li");
    li.textContent = values[0]?.name ?? id;
    li.dataset.peer = id;
    if (id === me) li.className = "me";
    ul.append(li);
  }
}

let stopView: () => void = () => {};
function showView(): void {
  stopView();
  stopView = view().observe(
    spin(($) => $.track(todos), { name: "render todos" }),
    (list) => renderTodos(list),
  );
  document.body.classList.toggle("whatif", fork !== null);
  $("mode").hidden = fork === null;
  $("conflicts").hidden = true;
}

function mergeBack(force: boolean): void {
  if (fork === null || forkBase === null) return;
  const mine = fork.get(todos);
  const clash = conflicts(forkBase, ctx.get(todos), mine);
  if (clash.length > 0 && !force) {
    const ul = $<HTMLUListElement>("conflict-list");
    ul.replaceChildren();
    for (const k of clash) {
      const li = document.createElement("li");
      li.dataset.id = k;
      const ours = mine.get(k)[0]?.text ?? "(deleted)";
      const theirs = ctx.get(todos).get(k)[0]?.text ?? "(deleted)";
      li.textContent = `what-if: “${ours}” — shared: “${theirs}”`;
      ul.append(li);
    }
    $("conflicts").hidden = false;
    return;
  }
  ctx.update(todos, (live) => live.join(mine));
  fork.dispose();
  fork = null;
  forkBase = null;
  showView();
}

$("add-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $<HTMLInputElement>("new-todo");
  const text = input.value.trim();
  if (text === "") return;
  view().update(todos, (m) => m.set(newId(), { text, done: false }));
  input.value = "";
});
$("whatif").addEventListener("click", () => {
  if (fork !== null) return;
  forkBase = ctx.get(todos);
  fork = ctx.fork();
  showView();
});
$("merge").addEventListener("click", () => mergeBack(false));
$("force").addEventListener("click", () => mergeBack(true));
$("discard").addEventListener("click", () => {
  fork?.dispose();
  fork = null;
  forkBase = null;
  showView();
});

ctx.observe(
  spin(($) => $.track(presence), { name: "render presence" }),
  (p) => renderPresence(p),
);
ctx.observe(
  spin(($) => [$.track(todoSync.connected), $.track(todoSync.caughtUp), $.track(todoSync.pending)] as const, {
    name: "render health",
  }),
  ([connected, caughtUp, pending]) => {
    $("connected").textContent = connected ? "connected" : "offline";
    $("connected").classList.toggle("ok", connected);
    $("caughtup").textContent = caughtUp ? "caught up" : "catching up";
    $("caughtup").classList.toggle("ok", caughtUp);
    $("pending").textContent = String(pending);
  },
);
showView();
document.body.dataset.ready = "true";
// for the browser test and the curious: the texts of the shared list (not the what-if fork)
(globalThis as { spindelDemo?: unknown }).spindelDemo = {
  peer,
  ctx,
  me,
  sharedTexts: () =>
    ctx
      .get(todos)
      .entries()
      .flatMap(([, vs]) => vs.map((v) => v.text)),
};
