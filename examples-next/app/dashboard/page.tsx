import type { Metadata } from "next";

import { VerifyBanner } from "@/components/VerifyBanner";
import { api, dataOr401 } from "@/lib/api/server";
import { NewTaskForm } from "./NewTaskForm";
import { TaskList } from "./TaskList";

export const metadata: Metadata = { title: "Your tasks" };

export default async function DashboardPage() {
  const [me, tasks] = await Promise.all([api.GET("/api/v1/auth/me"), api.GET("/api/v1/tasks")]);
  const user = dataOr401(me, "/dashboard");
  const list = dataOr401(tasks, "/dashboard");
  const open = list.filter((t) => !t.completed).length;
  return (
    <main>
      {user.emailVerified ? null : <VerifyBanner email={user.email} />}
      <div className="spread">
        <h1>{user.name ? `${user.name}'s tasks` : "Your tasks"}</h1>
        <p className="muted" data-testid="task-count">
          {list.length === 0 ? "Nothing yet" : `${open} open · ${list.length - open} done`}
        </p>
      </div>
      <div className="card">
        <h2>Add a task</h2>
        <NewTaskForm />
      </div>
      <section className="card" aria-labelledby="list-heading">
        <h2 id="list-heading" tabIndex={-1}>
          All tasks
        </h2>
        <TaskList tasks={list} />
      </section>
    </main>
  );
}
