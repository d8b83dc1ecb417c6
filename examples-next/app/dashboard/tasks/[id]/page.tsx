import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";

import { api, dataOr401 } from "@/lib/api/server";

export const metadata: Metadata = { title: "Task" };

const when = (iso: string) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });

export default async function TaskPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const answer = await api.GET("/api/v1/tasks/{id}", { params: { path: { id } } });
  // Someone else's task and a task that never existed look the same: not found.
  if (answer.response.status === 404) notFound();
  const task = dataOr401(answer, `/dashboard/tasks/${id}`);
  return (
    <main>
      <p>
        <Link href="/dashboard">← All tasks</Link>
      </p>
      <div className="card">
        <h1 className={task.completed ? "task-done" : undefined}>{task.title}</h1>
        <p className="muted small">
          {task.completed ? "Done" : "Open"} · created {when(task.createdAt)} UTC · updated {when(task.updatedAt)} UTC
        </p>
        {task.description ? <p className="task-desc">{task.description}</p> : <p className="muted">No description.</p>}
      </div>
    </main>
  );
}
