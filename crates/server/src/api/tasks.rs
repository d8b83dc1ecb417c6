//! The signed-in user's tasks. Every statement is scoped by the caller's id, so another
//! user's task is indistinguishable from one that does not exist: 404, never 403.

use std::sync::Arc;

use latchkey_store::TaskPatch;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::auth::AuthenticatedErrors;
use super::dto::{CreateTaskRequest, TaskView, Text, UpdateTaskRequest};
use super::json::Json;
use super::text::Uuid;
use crate::auth::{Caller, ClientInfo};
use crate::error::Failure;
use crate::flows::Ctx;
use crate::flows::tasks::{self, title_of};
use crate::flows::text::multiline_text;
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

#[derive(Default)]
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
        let tasks = tasks::list(&ctx(&state), &auth.0.user_id).await?;
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
        let description = description.map(Text::into_string);
        let task = tasks::create(&ctx(&state), &auth.0.user_id, &title, description).await?;
        Ok(TaskCreated::Created(Json(task.into())))
    }

    /// Get one of my tasks
    #[oai(path = "/:id", method = "get", operation_id = "getTask")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        id: Path<Text<Uuid>>,
    ) -> Result<TaskFound, Failure<FindErrors>> {
        let task = tasks::find(&ctx(&state), &auth.0.user_id, &id.0).await?;
        Ok(TaskFound::Ok(Json(task.into())))
    }

    /// Change one of my tasks
    #[oai(path = "/:id", method = "patch", operation_id = "updateTask")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        id: Path<Text<Uuid>>,
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
        let task = tasks::update(&ctx(&state), &auth.0.user_id, &id.0, &patch).await?;
        Ok(TaskFound::Ok(Json(task.into())))
    }

    /// Delete one of my tasks
    #[oai(path = "/:id", method = "delete", operation_id = "deleteTask")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        id: Path<Text<Uuid>>,
    ) -> Result<TaskDeleted, Failure<DeleteErrors>> {
        tasks::delete(&ctx(&state), &auth.0.user_id, &id.0).await?;
        Ok(TaskDeleted::NoContent)
    }
}

/// Tasks record nothing about the client: the flows' context without one.
fn ctx(state: &AppState) -> Ctx<'_> {
    const NOBODY: &ClientInfo = &ClientInfo {
        ip: None,
        user_agent: None,
        addr: None,
    };
    Ctx::new(state, NOBODY)
}
