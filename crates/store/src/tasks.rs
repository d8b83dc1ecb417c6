//! The seeds' per-user resource: tasks. Every statement names the owner, so no task is ever
//! read or changed through another user's id.

use crate::db::sql;
use crate::{NewTask, Result, SqlStore, Task, TaskPatch};

#[async_trait::async_trait]
pub trait Tasks: Send + Sync {
    /// The user's tasks, newest first.
    async fn list_tasks(&self, user_id: &str) -> Result<Vec<Task>>;

    async fn create_task(&self, task: &NewTask) -> Result<Task>;

    /// The task if it exists *and* belongs to `user_id`.
    async fn find_task(&self, user_id: &str, task_id: &str) -> Result<Option<Task>>;

    /// Applies `patch` to the user's task; `None` if the user has no such task.
    async fn update_task(
        &self,
        user_id: &str,
        task_id: &str,
        patch: &TaskPatch,
        now_ms: i64,
    ) -> Result<Option<Task>>;

    /// Deletes the user's task; false if the user has no such task.
    async fn delete_task(&self, user_id: &str, task_id: &str) -> Result<bool>;
}

#[async_trait::async_trait]
impl Tasks for SqlStore {
    async fn list_tasks(&self, user_id: &str) -> Result<Vec<Task>> {
        sql(
            "SELECT id, title, description, completed, created_at, updated_at FROM tasks
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(&mut self.db.read().await?)
        .await
    }

    async fn create_task(&self, task: &NewTask) -> Result<Task> {
        sql(
            "INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
             VALUES ($1, $2, $3, $4, FALSE, $5, $5)",
        )
        .bind(&task.id)
        .bind(&task.user_id)
        .bind(&task.title)
        .bind(&task.description)
        .bind(task.now_ms)
        .execute(&mut self.db.write().await?)
        .await?;
        Ok(Task {
            id: task.id.clone(),
            title: task.title.clone(),
            description: task.description.clone(),
            completed: false,
            created_at: task.now_ms,
            updated_at: task.now_ms,
        })
    }

    async fn find_task(&self, user_id: &str, task_id: &str) -> Result<Option<Task>> {
        sql(
            "SELECT id, title, description, completed, created_at, updated_at FROM tasks
             WHERE id = $1 AND user_id = $2",
        )
        .bind(task_id)
        .bind(user_id)
        .fetch_optional(&mut self.db.read().await?)
        .await
    }

    async fn update_task(
        &self,
        user_id: &str,
        task_id: &str,
        patch: &TaskPatch,
        now_ms: i64,
    ) -> Result<Option<Task>> {
        // One statement: the ownership check and the write cannot be separated.
        sql("UPDATE tasks SET
                title = COALESCE($1, title),
                description = CASE WHEN $2 THEN $3 ELSE description END,
                completed = COALESCE($4, completed),
                updated_at = $5
             WHERE id = $6 AND user_id = $7
             RETURNING id, title, description, completed, created_at, updated_at")
        .bind(&patch.title)
        .bind(patch.description.is_some())
        .bind(patch.description.as_ref().and_then(|d| d.as_deref()))
        .bind(patch.completed)
        .bind(now_ms)
        .bind(task_id)
        .bind(user_id)
        .fetch_optional(&mut self.db.write().await?)
        .await
    }

    async fn delete_task(&self, user_id: &str, task_id: &str) -> Result<bool> {
        let deleted = sql("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
            .bind(task_id)
            .bind(user_id)
            .execute(&mut self.db.write().await?)
            .await?;
        Ok(deleted == 1)
    }
}
