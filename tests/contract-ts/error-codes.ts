// Type tests: error codes are a closed set in both generated clients, and each status's
// responses narrow it. Every `@ts-expect-error` line must fail to compile without its
// directive (tsc reports a directive with nothing to excuse, and expect-errors.mjs checks
// that each such line fails for the expected reason).
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import type { ErrorCode, SignInErrors } from "./hey-api";

const api = createClient<paths>({ baseUrl: "http://localhost:8080" });

export async function openapiTypescript(): Promise<void> {
  const res = await api.POST("/api/v1/auth/signin", {
    body: { email: "ann@example.com", password: "correct horse battery staple" },
  });
  if (!res.error) return;
  if (res.error.error === "invalid_credentials") console.log("wrong email or password");
  // @ts-expect-error a misspelt code is no code
  if (res.error.error === "invalid_credentails") console.log("never");
  // @ts-expect-error sign-in answers no 409, so never `email_taken`
  if (res.error.error === "email_taken") console.log("never");
  const every: components["schemas"]["ErrorCode"] = "email_taken";
  // @ts-expect-error not one of the stable codes
  const misspelt: components["schemas"]["ErrorCode"] = "invalid_credentails";
  console.log(every, misspelt);
}

export function heyApi(error: SignInErrors[401], code: ErrorCode): void {
  if (error.error === "invalid_credentials" || error.error === "session_expired") console.log(code);
  // @ts-expect-error a misspelt code is no code
  if (error.error === "invalid_credentails") console.log("never");
  // @ts-expect-error a 401 is never `email_taken`
  if (error.error === "email_taken") console.log("never");
  // @ts-expect-error not one of the stable codes
  const misspelt: ErrorCode = "invalid_credentails";
  console.log(misspelt);
}
