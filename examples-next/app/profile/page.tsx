import type { Metadata } from "next";

import { VerifyBanner } from "@/components/VerifyBanner";
import { api, dataOr401 } from "@/lib/api/server";
import { ChangeEmailForm } from "./ChangeEmailForm";
import { ChangePasswordForm } from "./ChangePasswordForm";
import { NameForm } from "./NameForm";

export const metadata: Metadata = { title: "Profile" };

export default async function ProfilePage() {
  const user = dataOr401(await api.GET("/api/v1/auth/me"), "/profile");
  return (
    <main>
      {user.emailVerified ? null : <VerifyBanner email={user.email} />}
      <h1>Profile</h1>
      <p className="lead">
        Signed in as <strong data-testid="profile-email">{user.email}</strong>
        {user.emailVerified ? " (confirmed)" : " (not confirmed yet)"}.
      </p>
      <div className="grid-2">
        <section className="card" aria-labelledby="name-heading">
          <h2 id="name-heading">Your name</h2>
          <NameForm name={user.name ?? ""} />
        </section>
        <section className="card" aria-labelledby="email-heading">
          <h2 id="email-heading">Email address</h2>
          <ChangeEmailForm current={user.email} />
        </section>
        <section className="card" aria-labelledby="password-heading">
          <h2 id="password-heading">Password</h2>
          <ChangePasswordForm email={user.email} />
        </section>
      </div>
    </main>
  );
}
