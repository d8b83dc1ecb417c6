/**
 * `<LatchkeyProvider>` and `useSession()`: the signed-in user for client components, read from
 * the bridge's `GET /api/auth/session` and kept fresh: when an action here or in another tab
 * changes the session (a sign-out in one tab signs out the others' UI at once), and when the
 * window regains focus: then the server is asked (`fresh`), so a session revoked from another
 * device or expired while away shows at once.
 */
import { type ReactNode, createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";

import { subscribe } from "./channel.js";
import { type AuthClient, createAuthClient } from "./client.js";
import type { ActionError, User } from "./types.js";

export type SessionStatus = "loading" | "signed-in" | "signed-out";

export interface SessionState {
  status: SessionStatus;
  /** The signed-in user, or `null` (loading or signed out). */
  user: User | null;
  /** Re-reads the session (`fresh`: asks the server, not just the cookie). */
  refresh(options?: { fresh?: boolean }): Promise<void>;
  /** Why the last read failed (the bridge or server out of reach), if it did. */
  error: ActionError | null;
  /** The client the provider reads with: the same actions, on its `basePath`. */
  client: AuthClient;
}

const SessionContext = createContext<SessionState | null>(null);

export interface LatchkeyProviderProps {
  children?: ReactNode;
  /** The session as the server rendered it (`await getSession()`): no loading state, no flash. */
  initialSession?: { user: User } | null;
  /** Where the bridge is mounted (default `/api/auth`). Ignored when `client` is given. */
  basePath?: string;
  /** A client of your own (`createAuthClient({ … })`). */
  client?: AuthClient;
  /** Re-read the session when the window regains focus (default `true`). */
  refetchOnFocus?: boolean;
}

/** Minimum time between two reads caused by focus: alt-tabbing must not flood the bridge. */
const FOCUS_THROTTLE_MS = 2000;

export function LatchkeyProvider(props: LatchkeyProviderProps): ReactNode {
  const { children, initialSession, basePath, refetchOnFocus = true } = props;
  const client = useMemo(() => props.client ?? createAuthClient({ basePath }), [props.client, basePath]);
  const [state, setState] = useState<{ status: SessionStatus; user: User | null; error: ActionError | null }>(() =>
    initialSession === undefined
      ? { status: "loading", user: null, error: null }
      : initialSession
        ? { status: "signed-in", user: pickUser(initialSession.user), error: null }
        : { status: "signed-out", user: null, error: null },
  );
  // Answers can land out of order (a focus read and a sign-out's): only the latest counts.
  const latest = useRef(0);
  const lastFocusRead = useRef(0);

  const refresh = useCallback(
    async (options?: { fresh?: boolean }) => {
      const ticket = ++latest.current;
      const got = await client.getSession(options);
      if (ticket !== latest.current) return;
      if (got.error) {
        // Out of reach: keep what we knew; a first read that fails has to say signed out.
        setState((s) => ({ status: s.status === "loading" ? "signed-out" : s.status, user: s.user, error: got.error }));
        return;
      }
      const user = got.data?.user ?? null;
      setState((s) => (sameUser(s.user, user) && s.error === null && s.status !== "loading"
        ? s
        : { status: user ? "signed-in" : "signed-out", user, error: null }));
    },
    [client],
  );

  useEffect(() => {
    if (initialSession === undefined) void refresh();
    // Only on mount: a later `initialSession` (a re-render of the layout) is not news.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [refresh]);

  useEffect(
    () =>
      subscribe((change) => {
        if (change === "signed-out") {
          // Another tab (or this one) signed out: the cookies are gone for every tab.
          latest.current++;
          setState({ status: "signed-out", user: null, error: null });
          return;
        }
        void refresh();
      }),
    [refresh],
  );

  useEffect(() => {
    if (!refetchOnFocus || typeof window === "undefined") return;
    const onFocus = () => {
      if (document.visibilityState === "hidden") return;
      const now = Date.now();
      if (now - lastFocusRead.current < FOCUS_THROTTLE_MS) return;
      lastFocusRead.current = now;
      // Asked of the server: a session revoked while the tab was away shows now, not at expiry.
      void refresh({ fresh: true });
    };
    window.addEventListener("focus", onFocus);
    document.addEventListener("visibilitychange", onFocus);
    return () => {
      window.removeEventListener("focus", onFocus);
      document.removeEventListener("visibilitychange", onFocus);
    };
  }, [refetchOnFocus, refresh]);

  const value = useMemo<SessionState>(() => ({ ...state, refresh, client }), [state, refresh, client]);
  return createElement(SessionContext.Provider, { value }, children);
}

/** The session: `{ status, user, refresh() }`. Needs a `<LatchkeyProvider>` above. */
export function useSession(): SessionState {
  const value = useContext(SessionContext);
  if (!value) throw new Error("latchkey/react: useSession() needs a <LatchkeyProvider> above it");
  return value;
}

/** Only the user's identity, whatever else the answer carried (the token's claims are not kept here). */
function pickUser(user: User): User {
  return { id: user.id, email: user.email, emailVerified: user.emailVerified };
}

function sameUser(a: User | null, b: User | null): boolean {
  return a === b || (!!a && !!b && a.id === b.id && a.email === b.email && a.emailVerified === b.emailVerified);
}
