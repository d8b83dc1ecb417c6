//! The OpenAPI contract: committed, served, and in step with the code.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

fn committed(name: &str) -> String {
    let path = format!("{}/../../openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} is missing"))
}

const REGENERATE: &str =
    "the contract drifted: run `cargo run -p latchkey-server -- openapi --out openapi` and commit";

#[test]
fn the_committed_openapi_files_match_the_code() {
    let service = latchkey_server::api::service();
    assert!(
        committed("openapi.json") == service.spec() + "\n",
        "{REGENERATE}"
    );
    assert!(
        committed("openapi.yaml") == service.spec_yaml(),
        "{REGENERATE}"
    );
}

#[tokio::test]
async fn the_server_serves_the_committed_contract_and_swagger_ui() {
    let app = TestApp::sqlite().await;
    let served: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let file: Value = serde_json::from_str(&committed("openapi.json")).unwrap();
    assert_eq!(served, file);
    assert_eq!(
        served["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let yaml = app.get("/openapi.yaml", None).await.text().await.unwrap();
    assert_eq!(yaml, committed("openapi.yaml"));
    let docs = app.get("/docs", None).await;
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

/// A path split across two `#[OpenApi]` structs is written twice; JSON parsers that keep
/// the last key (serde_json, Python) then silently drop one path's operations, and strict
/// ones (openapi-typescript's YAML loader) refuse the file. Every path must appear once.
#[test]
fn every_path_appears_once_in_the_committed_contract() {
    let text = committed("openapi.json");
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        // Path keys sit at the paths object's depth (4 spaces) and start with a slash.
        if let Some(path) = line
            .strip_prefix("    \"/")
            .and_then(|l| l.strip_suffix("\": {"))
        {
            assert!(seen.insert(path.to_owned()), "/{path} appears twice");
        }
    }
    assert!(seen.len() >= 15, "only {} paths found", seen.len());
}

#[test]
fn every_operation_documents_its_error_statuses_with_the_error_shape() {
    let spec: Value = serde_json::from_str(&committed("openapi.json")).unwrap();
    let mut checked = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let protected = op.get("security").is_some();
            if protected {
                assert!(responses.contains_key("401"), "{method} {path} lacks 401");
            }
            if path.starts_with("/api/") {
                assert!(responses.contains_key("500"), "{method} {path} lacks 500");
            }
            if method == "post" || method == "patch" {
                assert!(responses.contains_key("413"), "{method} {path} lacks 413");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} lacks {status}"
                    );
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    // Readiness's 503 is the error shape plus the list of what is failing.
                    let expected = if path == "/readyz" && status == "503" {
                        "#/components/schemas/NotReady".to_owned()
                    } else {
                        format!("#/components/schemas/{}", error_schema_of(status))
                    };
                    assert_eq!(
                        schema.as_str(),
                        Some(expected.as_str()),
                        "{method} {path} {status}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} operations");
}

/// The schema each error status's responses point at.
fn error_schema_of(status: &str) -> &'static str {
    match status {
        "400" => "BadRequestError",
        "401" => "UnauthorizedError",
        "403" => "ForbiddenError",
        "404" => "NotFoundError",
        "409" => "ConflictError",
        "413" => "PayloadTooLargeError",
        "415" => "UnsupportedMediaTypeError",
        "429" => "TooManyRequestsError",
        "500" => "InternalServerError",
        "503" => "ServiceUnavailableError",
        other => panic!("no error schema for {other}"),
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// `ErrorBody.error` is the enum of every stable code, exactly the golden list; each status's
/// schema is `ErrorBody` narrowed to the codes of that status, and together they cover every
/// code once.
#[test]
fn error_codes_are_an_enum_narrowed_per_status() {
    let spec: Value = serde_json::from_str(&committed("openapi.json")).unwrap();
    let schemas = &spec["components"]["schemas"];
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../tests/vectors/error-codes.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        schemas["ErrorBody"]["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let every = strings(&schemas["ErrorCode"]["enum"]);
    assert_eq!(every, strings(&golden["codes"]));
    let mut covered = Vec::new();
    for status in [
        "400", "401", "403", "404", "409", "413", "415", "429", "500", "503",
    ] {
        let schema = &schemas[error_schema_of(status)];
        assert_eq!(schema["allOf"][0]["$ref"], "#/components/schemas/ErrorBody");
        let narrowed = strings(&schema["allOf"][1]["properties"]["error"]["enum"]);
        assert!(!narrowed.is_empty(), "{status}");
        let example = schema["example"]["error"].as_str().unwrap().to_owned();
        assert!(narrowed.contains(&example), "{status}: {example}");
        covered.extend(narrowed);
    }
    // 405 answers routes outside the contract only; the rest is covered once.
    covered.push("method_not_allowed".into());
    covered.sort();
    let mut every = every;
    every.sort();
    assert_eq!(covered, every);
    let unauthorized =
        strings(&schemas["UnauthorizedError"]["allOf"][1]["properties"]["error"]["enum"]);
    assert!(unauthorized.contains(&"invalid_credentials".to_owned()));
    assert!(!unauthorized.contains(&"email_taken".to_owned()));
}

/// Generators key JSON bodies by the media type: it is plain `application/json` everywhere
/// (the answers' `Content-Type` header may still name the charset).
#[test]
fn every_body_is_plain_application_json_with_an_example() {
    let spec: Value = serde_json::from_str(&committed("openapi.json")).unwrap();
    let schemas = &spec["components"]["schemas"];
    let example_of = |schema: &Value| -> Value {
        let schema = schema.get("items").unwrap_or(schema);
        match schema["$ref"].as_str() {
            Some(name) => {
                schemas[name.trim_start_matches("#/components/schemas/")]["example"].clone()
            }
            None => schema["example"].clone(),
        }
    };
    let mut bodies = 0;
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let mut contents: Vec<&Value> = op
                .get("requestBody")
                .map(|b| &b["content"])
                .into_iter()
                .collect();
            for response in op["responses"].as_object().unwrap().values() {
                if let Some(content) = response.get("content") {
                    contents.push(content);
                }
            }
            for content in contents {
                let keys: Vec<&String> = content.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["application/json"], "{method} {path}");
                let example = example_of(&content["application/json"]["schema"]);
                assert!(example.is_object(), "{method} {path}: no example");
                bodies += 1;
            }
        }
    }
    assert!(bodies >= 60, "only {bodies} bodies");
}

/// Session and task ids are UUIDs; user ids are not always (an imported user keeps the id
/// the old system gave them), so they carry no format.
#[test]
fn ids_emails_and_urls_name_their_format() {
    let spec: Value = serde_json::from_str(&committed("openapi.json")).unwrap();
    let schemas = &spec["components"]["schemas"];
    let format = |schema: &str, field: &str| schemas[schema]["properties"][field]["format"].clone();
    for (schema, field, expected) in [
        ("SessionView", "id", json!("uuid")),
        ("TaskView", "id", json!("uuid")),
        ("UserView", "id", Value::Null),
        ("UserView", "email", json!("email")),
        ("UserView", "image", json!("uri")),
        ("RegisterRequest", "email", json!("email")),
        ("SignInRequest", "email", json!("email")),
        ("ForgotPasswordRequest", "email", json!("email")),
        ("ChangeEmailRequest", "newEmail", json!("email")),
        ("UpdateProfileRequest", "image", json!("uri")),
    ] {
        assert_eq!(format(schema, field), expected, "{schema}.{field}");
    }
    for path in ["/api/v1/sessions/{id}", "/api/v1/tasks/{id}"] {
        for op in spec["paths"][path].as_object().unwrap().values() {
            assert_eq!(op["parameters"][0]["schema"]["format"], "uuid", "{path}");
        }
    }
}

/// The format is a label: the server's own checks still name the rule an input broke.
#[tokio::test]
async fn input_that_breaks_a_format_still_gets_the_rules_own_code() {
    let app = TestApp::sqlite().await;
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({ "email": "not an address", "password": "correct horse battery staple" }),
            None,
        )
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_email").await;
    let token = app.signed_up("formats@example.com").await;
    let res = app.get("/api/v1/tasks/not-a-uuid", Some(&token)).await;
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .patch(
            "/api/v1/auth/me",
            &json!({ "image": "javascript:alert(1)" }),
            &token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::sqlite().await;
    let health: Value = app.get("/healthz", None).await.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["database"], "sqlite");
    assert_eq!(ready["mailer"], "smtp");
    assert_eq!(ready["mailPending"], 0);
    assert_eq!(ready["mailFailed"], 0);
}

/// Found by contract fuzzing: poem-openapi's `String` turns a JSON number or boolean into
/// text, so `{"name": -10755}` was taken as the name "-10755" where the contract says
/// `type: string`. Every string field of a request body now takes strings only.
#[tokio::test]
async fn a_number_or_boolean_where_the_contract_says_string_is_400() {
    let app = TestApp::sqlite().await;
    let token = app.signed_up("typed@example.com").await;
    let res = app
        .patch("/api/v1/auth/me", &json!({ "name": -10755 }), &token)
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    let res = app
        .post("/api/v1/tasks", &json!({ "title": 5 }), Some(&token))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    let res = app
        .post(
            "/api/v1/auth/register",
            &json!({ "email": "numbers@example.com", "password": 1234567890123_i64 }),
            None,
        )
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    let res = app
        .post(
            "/api/v1/auth/signin",
            &json!({ "email": "typed@example.com", "password": true }),
            None,
        )
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
    // Nothing was changed or created by the refused requests.
    let me: Value = app
        .get("/api/v1/auth/me", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], Value::Null);
    let tasks: Value = app
        .get("/api/v1/tasks", Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tasks, json!([]));
}

/// Also found by contract fuzzing: the server has always taken `null` for an optional request
/// field as "left out", while the contract did not allow `null` there. It now says so
/// (`nullable`), and this pins the behaviour it describes.
#[tokio::test]
async fn null_for_an_optional_request_field_is_the_same_as_leaving_it_out() {
    let app = TestApp::sqlite().await;
    let token = app.signed_up("nulls@example.com").await;
    let res = app
        .post(
            "/api/v1/tasks",
            &json!({ "title": "t", "description": null }),
            Some(&token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let task: Value = res.json().await.unwrap();
    assert_eq!(task["description"], Value::Null);
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let res = app
        .patch(&path, &json!({ "title": null, "completed": null }), &token)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let same: Value = res.json().await.unwrap();
    assert_eq!(
        (&same["title"], &same["completed"]),
        (&json!("t"), &json!(false))
    );
    let spec: Value = serde_json::from_str(&committed("openapi.json")).unwrap();
    let schemas = &spec["components"]["schemas"];
    for (schema, field) in [
        ("RegisterRequest", "name"),
        ("RefreshRequest", "refreshToken"),
        ("CreateTaskRequest", "description"),
        ("UpdateTaskRequest", "title"),
        ("UpdateTaskRequest", "completed"),
        ("ChangePasswordRequest", "revokeOtherSessions"),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["nullable"],
            json!(true),
            "{schema}.{field}"
        );
    }
}
