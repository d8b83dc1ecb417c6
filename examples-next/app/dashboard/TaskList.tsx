"use client";

import Link from "next/link";
import { useState, useTransition } from "react";

import { Alert, useHydrated } from "@/components/form";
import type { Task } from "@/lib/api/types";
import { deleteTask, updateTask } from "./actions";

export function TaskList({ tasks }: { tasks: Task[] }) {
  if (tasks.length === 0) {
    return <p className="empty">No tasks yet. Add your first one above.</p>;
  }
  return (
    <ul className="tasks" data-testid="tasks">
      {/* Open tasks first; each group keeps the server's order (newest first). */}
      {[...tasks.filter((t) => !t.completed), ...tasks.filter((t) => t.completed)].map((task) => (
        <TaskItem key={task.id} task={task} />
      ))}
    </ul>
  );
}

function TaskItem({ task }: { task: Task }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const hydrated = useHydrated();
  const busy = pending || !hydrated;
  const act = (work: () => Promise<{ error?: string }>, after?: () => void) =>
    start(async () => {
      setError(null);
      const { error } = await work();
      if (error) setError(error);
      else after?.();
    });

  if (editing) {
    return (
      <li>
        <form
          className="stack task-body"
          aria-label={`Edit ${task.title}`}
          onSubmit={(event) => {
            event.preventDefault();
            const form = new FormData(event.currentTarget);
            const description = String(form.get("description") ?? "").trim();
            act(
              () => updateTask(task.id, { title: String(form.get("title") ?? "").trim(), description: description || null }),
              () => setEditing(false),
            );
          }}
        >
          {error ? <Alert kind="error">{error}</Alert> : null}
          <div className="field">
            <label htmlFor={`title-${task.id}`}>Title</label>
            <input id={`title-${task.id}`} name="title" type="text" defaultValue={task.title} maxLength={200} required />
          </div>
          <div className="field">
            <label htmlFor={`description-${task.id}`}>Description</label>
            <textarea id={`description-${task.id}`} name="description" defaultValue={task.description ?? ""} maxLength={5000} />
          </div>
          <div className="row">
            <button type="submit" disabled={busy}>
              Save
            </button>
            <button type="button" className="secondary" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      </li>
    );
  }

  return (
    <li className={task.completed ? "task-done" : undefined} data-testid="task">
      <input
        type="checkbox"
        checked={task.completed}
        disabled={busy}
        aria-label={`${task.completed ? "Reopen" : "Complete"} ${task.title}`}
        onChange={() => act(() => updateTask(task.id, { completed: !task.completed }))}
      />
      <div className="task-body">
        <Link className="task-title" href={`/dashboard/tasks/${task.id}`}>
          {task.title}
        </Link>
        {task.description ? <div className="task-desc">{task.description}</div> : null}
        {error ? <Alert kind="error">{error}</Alert> : null}
      </div>
      <div className="task-actions">
        <button type="button" className="secondary" disabled={busy} onClick={() => setEditing(true)} aria-label={`Edit ${task.title}`}>
          Edit
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          aria-label={`Delete ${task.title}`}
          onClick={() => act(() => deleteTask(task.id))}
        >
          Delete
        </button>
      </div>
    </li>
  );
}
