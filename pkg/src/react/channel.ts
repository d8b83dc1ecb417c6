/**
 * Telling the other tabs that the session changed. A `BroadcastChannel` where the browser has
 * one; otherwise a `localStorage` write, which fires a `storage` event in every other tab of
 * the origin. The message says only *that* something changed (and whether it was a sign-out):
 * never a token or a user, since both channels are readable by any script on the origin.
 */

export type Change = "changed" | "signed-out";
type Listener = (change: Change) => void;

const NAME = "latchkey:session";
const listeners = new Set<Listener>();
let channel: BroadcastChannel | null = null;

const hasWindow = (): boolean => typeof window !== "undefined";

function onStorage(event: StorageEvent): void {
  if (event.key !== NAME || !event.newValue) return;
  deliver(event.newValue.split(":")[0] === "signed-out" ? "signed-out" : "changed");
}

function deliver(change: Change): void {
  for (const listener of [...listeners]) listener(change);
}

function start(): void {
  if (typeof BroadcastChannel === "function") {
    channel = new BroadcastChannel(NAME);
    channel.onmessage = (event: MessageEvent) => deliver(event.data === "signed-out" ? "signed-out" : "changed");
  } else if (hasWindow()) {
    window.addEventListener("storage", onStorage);
  }
}

function stop(): void {
  channel?.close();
  channel = null;
  if (hasWindow()) window.removeEventListener("storage", onStorage);
}

/** Calls `listener` when this tab or another one changes the session; returns the unsubscribe. */
export function subscribe(listener: Listener): () => void {
  if (listeners.size === 0) start();
  listeners.add(listener);
  return () => {
    if (listeners.delete(listener) && listeners.size === 0) stop();
  };
}

/** Tells this tab's listeners and every other tab of the origin that the session changed. */
export function announce(change: Change): void {
  deliver(change);
  if (typeof BroadcastChannel === "function") {
    // A channel does not hear its own messages, so this tab's listeners were told above.
    const sender = channel ?? new BroadcastChannel(NAME);
    sender.postMessage(change);
    if (sender !== channel) sender.close();
    return;
  }
  if (!hasWindow()) return;
  try {
    // A new value each time: writing the same one again fires no event.
    window.localStorage.setItem(NAME, `${change}:${Date.now()}:${Math.random().toString(36).slice(2)}`);
  } catch {
    // Storage disabled (private mode, quotas): other tabs catch up on focus.
  }
}
