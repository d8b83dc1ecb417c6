//! The seeds' per-user resource: a user's tasks. Every call names the owner, so another
//! user's task is a 404, never a read or a write.

use latchkey_core::Error;
use latchkey_store::{NewTask, Task, TaskPatch};

use super::ids::{canonical, new_id};
use super::text::{multiline_text, plain_text};
use super::{Ctx, Result};

pub async fn list(ctx: &Ctx<'_>, user_id: &str) -> Result<Vec<Task>> {
    Ok(ctx.app.store.tasks.list_tasks(user_id).await?)
}

pub async fn create(
    ctx: &Ctx<'_>,
    user_id: &str,
    title: &str,
    description: Option<String>,
) -> Result<Task> {
    let task = NewTask {
        id: new_id()?,
        user_id: user_id.to_owned(),
        title: title_of(title)?,
        description: description
            .map(|d| multiline_text("description", &d))
            .transpose()?,
        now_ms: ctx.now_ms,
    };
    Ok(ctx.app.store.tasks.create_task(&task).await?)
}

pub async fn find(ctx: &Ctx<'_>, user_id: &str, id: &str) -> Result<Task> {
    let id = task_id(id)?;
    let found = ctx.app.store.tasks.find_task(user_id, &id).await?;
    found.ok_or(Error::NotFound)
}

pub async fn update(ctx: &Ctx<'_>, user_id: &str, id: &str, patch: &TaskPatch) -> Result<Task> {
    let id = task_id(id)?;
    let tasks = &ctx.app.store.tasks;
    let updated = tasks.update_task(user_id, &id, patch, ctx.now_ms).await?;
    updated.ok_or(Error::NotFound)
}

pub async fn delete(ctx: &Ctx<'_>, user_id: &str, id: &str) -> Result<()> {
    let id = task_id(id)?;
    if !ctx.app.store.tasks.delete_task(user_id, &id).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// Task ids are UUIDs; anything else cannot name a task, so it is a 404 without a query
/// (and a stray NUL never reaches PostgreSQL, which would refuse it).
fn task_id(id: &str) -> Result<String> {
    canonical(id).ok_or(Error::NotFound)
}

/// A title: one line, not blank.
pub fn title_of(raw: &str) -> Result<String> {
    let title = plain_text("title", raw)?;
    if title.is_empty() {
        return Err(Error::InvalidRequest("title must not be blank".into()));
    }
    Ok(title)
}
