use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::assert_error;

both_backends! {
    async fn a_user_can_create_read_update_complete_and_delete_a_task(app) {
        let token = app.signed_up("ann@example.com").await;
        let res = app.post("/api/v1/tasks", &json!({"title": "  Buy milk ", "description": "2 litres"}), Some(&token)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let task: Value = res.json().await.unwrap();
        assert_eq!(task["title"], "Buy milk");
        assert_eq!(task["completed"], false);
        let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());

        let fetched: Value = app.get(&path, Some(&token)).await.json().await.unwrap();
        assert_eq!(fetched, task);

        app.clock.advance_secs(60);
        let res = app.patch(&path, &json!({"completed": true}), &token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let updated: Value = res.json().await.unwrap();
        assert_eq!(updated["completed"], true);
        assert_eq!(updated["title"], "Buy milk");
        assert_eq!(updated["description"], "2 litres");
        assert_ne!(updated["updatedAt"], task["updatedAt"]);

        let cleared: Value = app.patch(&path, &json!({"description": null, "title": "Buy oat milk"}), &token).await.json().await.unwrap();
        assert_eq!(cleared["description"], Value::Null);
        assert_eq!(cleared["title"], "Buy oat milk");
        assert_eq!(cleared["completed"], true);

        assert_eq!(app.delete(&path, &token).await.status(), StatusCode::NO_CONTENT);
        assert_error(app.get(&path, Some(&token)).await, StatusCode::NOT_FOUND, "not_found").await;
        assert_error(app.delete(&path, &token).await, StatusCode::NOT_FOUND, "not_found").await;
    }

    async fn another_users_task_is_a_404_for_get_patch_and_delete_and_is_left_alone(app) {
        let ann = app.signed_up("ann@example.com").await;
        let bo = app.signed_up("bo@example.com").await;
        let task = app.create_task(&ann, "Ann's secret plan").await;
        let bos_task = app.create_task(&bo, "Bo's errand").await;
        let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());

        let res = app.get(&path, Some(&bo)).await;
        let body = assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
        assert!(!body.to_string().contains("secret plan"));
        assert_error(app.patch(&path, &json!({"title": "pwned", "completed": true}), &bo).await, StatusCode::NOT_FOUND, "not_found").await;
        assert_error(app.delete(&path, &bo).await, StatusCode::NOT_FOUND, "not_found").await;

        // Ann's task is exactly as she left it.
        let still: Value = app.get(&path, Some(&ann)).await.json().await.unwrap();
        assert_eq!(still, task);

        let anns: Value = app.get("/api/v1/tasks", Some(&ann)).await.json().await.unwrap();
        let ids: Vec<&str> = anns.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![task["id"].as_str().unwrap()]);
        let bos: Value = app.get("/api/v1/tasks", Some(&bo)).await.json().await.unwrap();
        assert_eq!(bos.as_array().unwrap(), &vec![bos_task]);
    }

    async fn tasks_are_listed_newest_first(app) {
        let token = app.signed_up("cy@example.com").await;
        for title in ["first", "second", "third"] {
            app.create_task(&token, title).await;
            app.clock.advance_secs(1);
        }
        let list: Value = app.get("/api/v1/tasks", Some(&token)).await.json().await.unwrap();
        let titles: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["third", "second", "first"]);
    }

    async fn blank_or_control_character_titles_are_400_and_store_nothing(app) {
        let token = app.signed_up("di@example.com").await;
        for title in ["", "   ", "nul\u{0}byte", "line\r\nbreak"] {
            let res = app.post("/api/v1/tasks", &json!({"title": title}), Some(&token)).await;
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "title {title:?}");
        }
        let res = app.post("/api/v1/tasks", &json!({"title": "ok", "description": "bad \u{0}"}), Some(&token)).await;
        assert_error(res, StatusCode::BAD_REQUEST, "invalid_request").await;
        let list: Value = app.get("/api/v1/tasks", Some(&token)).await.json().await.unwrap();
        assert_eq!(list, json!([]));
    }

    async fn ids_that_are_not_uuids_are_404_not_500(app) {
        let token = app.signed_up("eve@example.com").await;
        for id in ["nope", "%00", "1%27%20OR%20%271%27=%271", "00000000-0000-0000-0000-000000000000"] {
            let path = format!("/api/v1/tasks/{id}");
            assert_error(app.get(&path, Some(&token)).await, StatusCode::NOT_FOUND, "not_found").await;
            assert_error(app.patch(&path, &json!({"completed": true}), &token).await, StatusCode::NOT_FOUND, "not_found").await;
            assert_error(app.delete(&path, &token).await, StatusCode::NOT_FOUND, "not_found").await;
        }
    }

    async fn any_spelling_of_a_tasks_uuid_finds_it(app) {
        let token = app.signed_up("fin@example.com").await;
        let task = app.create_task(&token, "spelled twice").await;
        let id = task["id"].as_str().unwrap();
        for spelling in [id.to_uppercase(), format!("urn:uuid:{id}"), id.replace('-', "")] {
            let found: Value = app.get(&format!("/api/v1/tasks/{spelling}"), Some(&token)).await.json().await.unwrap();
            assert_eq!(found["id"], id, "{spelling}");
        }
    }

    async fn tasks_need_a_valid_token(app) {
        assert_error(app.get("/api/v1/tasks", None).await, StatusCode::UNAUTHORIZED, "missing_token").await;
        let res = app.post("/api/v1/tasks", &json!({"title": "x"}), Some("a.b.c")).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "malformed_token").await;
    }
}
