"use server";

import { revalidatePath } from "next/cache";

import { api } from "@/lib/api/server";
import { type Outcome, outcomeOf } from "@/lib/api/outcome";

// Server actions: Next.js checks that each call comes from this app's own pages (Origin), and
// the API call carries the user's token from the HttpOnly cookie. The server enforces that a
// user only ever reaches their own tasks; nothing here has to.

export async function createTask(_: Outcome, form: FormData): Promise<Outcome> {
  const title = String(form.get("title") ?? "").trim();
  const description = String(form.get("description") ?? "").trim();
  if (!title) return { error: "Give the task a title." };
  const outcome = outcomeOf(
    await api.POST("/api/v1/tasks", { body: { title, description: description || undefined } }),
    "/dashboard",
  );
  if (!outcome.error) revalidatePath("/dashboard");
  return outcome;
}

export async function updateTask(
  id: string,
  change: { title?: string; description?: string | null; completed?: boolean },
): Promise<Outcome> {
  if (change.title !== undefined && !change.title.trim()) return { error: "Give the task a title." };
  const outcome = outcomeOf(
    await api.PATCH("/api/v1/tasks/{id}", { params: { path: { id } }, body: change }),
    "/dashboard",
  );
  if (!outcome.error) revalidatePath("/dashboard");
  return outcome;
}

export async function deleteTask(id: string): Promise<Outcome> {
  const outcome = outcomeOf(await api.DELETE("/api/v1/tasks/{id}", { params: { path: { id } } }), "/dashboard");
  if (!outcome.error) revalidatePath("/dashboard");
  return outcome;
}
