/**
 * The app's one Latchkey instance, configured from the environment (LATCHKEY_API_URL,
 * LATCHKEY_SECRET, LATCHKEY_APP_URL): the bridge's route is its `handlers`, and server actions
 * run bridge operations through its `serverAction`, so both answer with the same settings.
 * (proxy.ts keeps `authProxy` beside its matcher: the protected paths are listed there once.)
 */
import { createLatchkey } from "latchkey/next";

export const latchkey = createLatchkey();
