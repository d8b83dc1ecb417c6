"use server";

import { revalidatePath } from "next/cache";

import { api } from "@/lib/api/server";
import { RELOAD, type Outcome, isId, outcomeOf } from "@/lib/api/outcome";

export async function revokeSession(id: unknown): Promise<Outcome> {
  if (!isId(id)) return RELOAD;
  const outcome = outcomeOf(await api.DELETE("/api/v1/sessions/{id}", { params: { path: { id } } }), "/sessions");
  if (!outcome.error) revalidatePath("/sessions");
  return outcome;
}

export async function revokeOtherSessions(): Promise<Outcome> {
  const outcome = outcomeOf(await api.DELETE("/api/v1/sessions"), "/sessions");
  if (!outcome.error) revalidatePath("/sessions");
  return outcome;
}
