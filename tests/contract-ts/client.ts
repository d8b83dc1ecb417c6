// Real uses of the API through a client generated from openapi/openapi.json by
// openapi-typescript + openapi-fetch. `npm run check` regenerates the types and type-checks
// this file: a contract change that breaks a client (a renamed field, a path written twice,
// a null the schema does not admit) fails here.
import createClient from "openapi-fetch";
import type { paths } from "./schema";

const api = createClient<paths>({ baseUrl: "http://localhost:8080" });

export async function walkThrough(token: string): Promise<void> {
  const auth = { authorization: `Bearer ${token}` };
  const signedIn = await api.POST("/api/v1/auth/signin", {
    body: { email: "ann@example.com", password: "correct horse battery staple" },
  });
  if (signedIn.error) {
    const code: string = signedIn.error.error;
    console.log(code, signedIn.response.headers.get("retry-after"));
    return;
  }
  const access: string | undefined = signedIn.data.accessToken;
  const verified: boolean = signedIn.data.user.emailVerified;
  console.log(access, verified, signedIn.data.refreshExpiresIn);

  const me = await api.GET("/api/v1/auth/me", { headers: auth });
  const name: string | null | undefined = me.data?.name;
  const locale: string | undefined = me.data?.locale;
  console.log(locale);
  await api.PATCH("/api/v1/auth/me", { headers: auth, body: { locale: "de" } });
  const updated = await api.PATCH("/api/v1/auth/me", { headers: auth, body: { name: "Ann", image: null } });
  console.log(name, updated.data?.image);

  await api.POST("/api/v1/auth/forgot-password", { body: { email: "ann@example.com" } });
  await api.POST("/api/v1/auth/reset-password", { body: { token: "from-the-link", newPassword: "a new passphrase" } });
  await api.POST("/api/v1/auth/verify-email", { body: { token: "from-the-link" } });
  // A password change replaces the session: the answer carries the new one's tokens.
  const changed = await api.POST("/api/v1/auth/change-password", {
    headers: auth,
    body: { currentPassword: "old passphrase", newPassword: "new passphrase", revokeOtherSessions: true },
  });
  const replacement: string | undefined = changed.data?.accessToken;
  console.log(replacement);
  await api.POST("/api/v1/auth/change-email", {
    headers: auth,
    body: { newEmail: "ann@new.example", password: "x", revokeOtherSessions: false },
  });

  const sessions = await api.GET("/api/v1/sessions", { headers: auth });
  for (const s of sessions.data ?? []) console.log(s.id, s.current, s.ipAddress ?? "unknown");

  const created = await api.POST("/api/v1/tasks", { headers: auth, body: { title: "Buy milk" } });
  if (created.data) {
    await api.PATCH("/api/v1/tasks/{id}", {
      headers: auth,
      params: { path: { id: created.data.id } },
      body: { completed: true, description: null },
    });
  }
  const tasks = await api.GET("/api/v1/tasks", { headers: auth });
  for (const t of tasks.data ?? []) console.log(t.title, t.completed, t.description ?? "");

  const ready = await api.GET("/readyz");
  console.log(ready.data?.rateLimitStore, ready.data?.clientIp, ready.data?.mailPending);
}
