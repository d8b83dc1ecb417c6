"use server";

import { revalidatePath } from "next/cache";

import { api } from "@/lib/api/server";
import { RELOAD, type Outcome, isId, outcomeOf } from "@/lib/api/outcome";

// Server actions are public endpoints: Next.js checks that each call comes from this app's own
// pages (Origin), and the arguments are checked here as untrusted input. The API call carries
// the user's token from the HttpOnly cookie, and the server lets a user reach only their own
// tasks; nothing here has to.

const text = (value: unknown): string | undefined => (typeof value === "string" ? value.trim() : undefined);

export async function createTask(title: unknown, description: unknown): Promise<Outcome> {
  const [t, d] = [text(title), text(description)];
  if (!t) return { error: "Give the task a title." };
  const outcome = outcomeOf(await api.POST("/api/v1/tasks", { body: { title: t, description: d || undefined } }), "/dashboard");
  if (!outcome.error) revalidatePath("/dashboard");
  return outcome;
}

/** Changes one task: a new title and description, or its completed state. */
export async function updateTask(id: unknown, change: unknown): Promise<Outcome> {
  if (!isId(id) || typeof change !== "object" || change === null) return RELOAD;
  const { title, description, completed } = change as Record<string, unknown>;
  if (description !== undefined && description !== null && typeof description !== "string") return RELOAD;
  if (completed !== undefined && typeof completed !== "boolean") return RELOAD;
  const body: { title?: string; description?: string | null; completed?: boolean } = {};
  if (title !== undefined) {
    body.title = text(title);
    if (!body.title) return { error: "Give the task a title." };
  }
  if (description !== undefined) body.description = text(description) || null;
  if (completed !== undefined) body.completed = completed;
  const outcome = outcomeOf(await api.PATCH("/api/v1/tasks/{id}", { params: { path: { id } }, body }), "/dashboard");
  if (!outcome.error) revalidatePath("/dashboard");
  return outcome;
}

export async function deleteTask(id: unknown): Promise<Outcome> {
  if (!isId(id)) return RELOAD;
  const outcome = outcomeOf(await api.DELETE("/api/v1/tasks/{id}", { params: { path: { id } } }), "/dashboard");
  if (!outcome.error) revalidatePath("/dashboard");
  return outcome;
}
