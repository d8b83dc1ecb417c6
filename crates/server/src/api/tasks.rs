//! The signed-in user's tasks. Every statement is scoped by the caller's id, so another
//! user's task is indistinguishable from one that does not exist: 404, never 403.

use std::sync::Arc;

use latchkey_core::Error;
use latchkey_store::{NewTask, TaskPatch};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::AuthenticatedErrors;
use super::dto::{CreateTaskRequest, TaskView, UpdateTaskRequest};
use super::ids::{canonical, new_id};
use super::text::{multiline_text, plain_text};
use crate::auth::Caller;
use crate::error::Failure;
use crate::state::AppState;
use crate::statuses;

statuses! {
    CreateErrors = [400, 401, 403, 413, 415, 500, 503];
    FindErrors = [401, 404, 500, 503];
    UpdateErrors = [400, 401, 403, 404, 413, 415, 500, 503];
    DeleteErrors = [401, 403, 404, 500, 503];
}

#[derive(ApiResponse)]
pub enum TaskList {
    /// The caller's tasks, newest first.
    #[oai(status = 200)]
    Ok(Json<Vec<TaskView>>),
}

#[derive(ApiResponse)]
pub enum TaskCreated {
    /// The new task.
    #[oai(status = 201)]
    Created(Json<TaskView>),
}

#[derive(ApiResponse)]
pub enum TaskFound {
    /// The task.
    #[oai(status = 200)]
    Ok(Json<TaskView>),
}

#[derive(ApiResponse)]
pub enum TaskDeleted {
    /// The task is gone.
    #[oai(status = 204)]
    NoContent,
}

pub struct TasksApi;

#[OpenApi(prefix_path = "/api/v1/tasks", tag = "ApiTags::Tasks")]
impl TasksApi {
    /// List my tasks
    #[oai(path = "/", method = "get", operation_id = "listTasks")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
    ) -> Result<TaskList, Failure<AuthenticatedErrors>> {
        let tasks = state.store.tasks.list_tasks(&auth.0.user_id).await?;
        Ok(TaskList::Ok(Json(
            tasks.into_iter().map(Into::into).collect(),
        )))
    }

    /// Create a task
    #[oai(path = "/", method = "post", operation_id = "createTask")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        body: Json<CreateTaskRequest>,
    ) -> Result<TaskCreated, Failure<CreateErrors>> {
        let CreateTaskRequest { title, description } = body.0;
        let task = NewTask {
            id: new_id()?,
            user_id: auth.0.user_id,
            title: title_of(&title)?,
            description: description
                .map(|d| multiline_text("description", &d))
                .transpose()?,
            now_ms: state.clock.now_ms(),
        };
        let task = state.store.tasks.create_task(&task).await?;
        Ok(TaskCreated::Created(Json(task.into())))
    }

    /// Get one of my tasks
    #[oai(path = "/:id", method = "get", operation_id = "getTask")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        id: Path<String>,
    ) -> Result<TaskFound, Failure<FindErrors>> {
        let task = state
            .store
            .tasks
            .find_task(&auth.0.user_id, &task_id(&id)?)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(TaskFound::Ok(Json(task.into())))
    }

    /// Change one of my tasks
    #[oai(path = "/:id", method = "patch", operation_id = "updateTask")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        id: Path<String>,
        body: Json<UpdateTaskRequest>,
    ) -> Result<TaskFound, Failure<UpdateErrors>> {
        let UpdateTaskRequest {
            title,
            description,
            completed,
        } = body.0;
        let patch = TaskPatch {
            title: title.map(|t| title_of(&t)).transpose()?,
            description: match description.as_opt_deref::<str>() {
                Some(Some(d)) => Some(Some(multiline_text("description", d)?)),
                Some(None) => Some(None),
                None => None,
            },
            completed,
        };
        let task = state
            .store
            .tasks
            .update_task(
                &auth.0.user_id,
                &task_id(&id)?,
                &patch,
                state.clock.now_ms(),
            )
            .await?
            .ok_or(Error::NotFound)?;
        Ok(TaskFound::Ok(Json(task.into())))
    }

    /// Delete one of my tasks
    #[oai(path = "/:id", method = "delete", operation_id = "deleteTask")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        id: Path<String>,
    ) -> Result<TaskDeleted, Failure<DeleteErrors>> {
        if !state
            .store
            .tasks
            .delete_task(&auth.0.user_id, &task_id(&id)?)
            .await?
        {
            return Err(Error::NotFound.into());
        }
        Ok(TaskDeleted::NoContent)
    }
}

/// Task ids are UUIDs; anything else cannot name a task, so it is a 404 without a query
/// (and a stray NUL never reaches PostgreSQL, which would refuse it).
fn task_id(id: &Path<String>) -> Result<String, Error> {
    canonical(&id.0).ok_or(Error::NotFound)
}

fn title_of(raw: &str) -> Result<String, Error> {
    let title = plain_text("title", raw)?;
    if title.is_empty() {
        return Err(Error::InvalidRequest("title must not be blank".into()));
    }
    Ok(title)
}
