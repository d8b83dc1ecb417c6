// Real uses of the API through the SDK @hey-api/openapi-ts generates from
// openapi/openapi.json (into hey-api/, with its bundled fetch client). `npm run check`
// regenerates it and type-checks this file, as client.ts does for openapi-typescript: a
// contract change that breaks this second generator's client fails here.
import { createClient } from "./hey-api/client";
import {
  changePassword,
  createTask,
  listSessions,
  listTasks,
  me,
  readyz,
  register,
  revokeSession,
  signIn,
  updateMe,
  updateTask,
  verifyEmail,
  type ErrorCode,
  type UserView,
} from "./hey-api";

const client = createClient({ baseUrl: "http://localhost:8080" });

export async function walkThrough(token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}` };
  const signedIn = await signIn({
    client,
    body: { email: "ann@example.com", password: "correct horse battery staple" },
  });
  if (signedIn.error) {
    // Every error of every operation carries one of the stable codes.
    const code: ErrorCode = signedIn.error.error;
    console.log(code, signedIn.error.requestId, signedIn.response?.headers.get("retry-after"));
    return;
  }
  const access: string | undefined = signedIn.data.accessToken;
  const user: UserView = signedIn.data.user;
  console.log(access, user.emailVerified, signedIn.data.refreshExpiresIn);

  const registered = await register({
    client,
    body: { email: "bob@example.com", password: "another long passphrase", name: null },
  });
  if (registered.error?.error === "email_taken") console.log("409: sign in instead");
  if (registered.error?.error === "password_too_common") console.log("400: choose another");

  const current = await me({ client, headers });
  const name: string | null | undefined = current.data?.name;
  const image: string | null | undefined = current.data?.image;
  console.log(name, image);
  await updateMe({ client, headers, body: { locale: "de", image: null } });
  await verifyEmail({ client, body: { token: "from-the-link" } });

  const changed = await changePassword({
    client,
    headers,
    body: { currentPassword: "old passphrase", newPassword: "new passphrase", revokeOtherSessions: true },
  });
  if (changed.error?.error === "invalid_credentials") console.log("wrong current password");
  console.log(changed.data?.accessToken);

  const sessions = await listSessions({ client, headers });
  for (const s of sessions.data ?? []) {
    if (!s.current) await revokeSession({ client, headers, path: { id: s.id } });
  }

  const created = await createTask({ client, headers, body: { title: "Buy milk" } });
  if (created.data) {
    await updateTask({
      client,
      headers,
      path: { id: created.data.id },
      body: { completed: true, description: null },
    });
  }
  const tasks = await listTasks({ client, headers });
  for (const t of tasks.data ?? []) console.log(t.title, t.completed, t.description ?? "");

  const ready = await readyz({ client });
  if (ready.error) console.log(ready.error.failing);
  console.log(ready.data?.rateLimitStore, ready.data?.clientIp);
}
