"use client";

import Link from "next/link";
import { useEffect, useRef, useState, useTransition } from "react";

import { Messages, useHydrated } from "@/components/form";
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

/** Where the keyboard focus goes once a task is gone: the list's heading. */
const focusListHeading = () => document.getElementById("list-heading")?.focus();

function TaskItem({ task }: { task: Task }) {
  const hydrated = useHydrated();
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [pending, start] = useTransition();
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);

  // Back from the edit form (saved or cancelled): the focus returns to its Edit button.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);

  // Buttons stay enabled while a change is on its way (a disabled button drops the keyboard
  // focus); a second press is ignored instead.
  const act = (work: () => Promise<{ error?: string }>, after?: () => void) => {
    if (pending) return;
    start(async () => {
      setError(null);
      const { error } = await work();
      if (error) setError(error);
      else after?.();
    });
  };

  if (editing) {
    return (
      <li>
        <form
          className="stack task-body"
          aria-label={`Edit ${task.title}`}
          onKeyDown={(event) => event.key === "Escape" && setEditing(false)}
          onSubmit={(event) => {
            event.preventDefault();
            const form = new FormData(event.currentTarget);
            act(
              () => updateTask(task.id, { title: form.get("title"), description: form.get("description") }),
              () => setEditing(false),
            );
          }}
        >
          <Messages error={error} done={null} />
          <div className="field">
            <label htmlFor={`title-${task.id}`}>Title</label>
            <input id={`title-${task.id}`} name="title" type="text" defaultValue={task.title} maxLength={200} required autoFocus />
          </div>
          <div className="field">
            <label htmlFor={`description-${task.id}`}>Description</label>
            <textarea id={`description-${task.id}`} name="description" defaultValue={task.description ?? ""} maxLength={5000} />
          </div>
          <div className="row">
            <button type="submit" aria-disabled={pending || undefined}>
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
        disabled={!hydrated}
        aria-disabled={pending || undefined}
        aria-label={`${task.completed ? "Reopen" : "Complete"} ${task.title}`}
        onChange={() => act(() => updateTask(task.id, { completed: !task.completed }))}
      />
      <div className="task-body">
        <Link className="task-title" href={`/dashboard/tasks/${task.id}`}>
          {task.title}
        </Link>
        {task.description ? <div className="task-desc">{task.description}</div> : null}
        <Messages error={error} done={null} />
      </div>
      <div className="task-actions">
        <button
          ref={editButton}
          type="button"
          className="secondary"
          disabled={!hydrated}
          aria-label={`Edit ${task.title}`}
          onClick={() => setEditing(true)}
        >
          Edit
        </button>
        <button
          type="button"
          className="danger"
          disabled={!hydrated}
          aria-disabled={pending || undefined}
          aria-label={`Delete ${task.title}`}
          onClick={() => act(() => deleteTask(task.id), focusListHeading)}
        >
          Delete
        </button>
      </div>
    </li>
  );
}
