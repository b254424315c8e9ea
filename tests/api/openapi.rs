//! The committed spec is what the code generates; every route is in it and answers; every
//! operation and schema is documented well enough for an integrator.

use reqwest::Method;
use serde_json::Value;
use xinli_tests::TestApp;

fn generated() -> Value {
    serde_json::from_str(&xinli_api::openapi::spec_json()).unwrap()
}

#[test]
fn committed_spec_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).expect("openapi/openapi.json exists");
    assert!(
        committed == xinli_api::openapi::spec_json(),
        "openapi/openapi.json is stale: run `cargo run -p xinli-openapi` and commit it"
    );
}

#[tokio::test]
async fn served_spec_is_the_generated_spec() {
    let app = TestApp::spawn().await;
    let served: Value = app
        .get("/api-docs/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(served, generated());
}

#[test]
fn every_operation_is_documented() {
    let spec = generated();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: summary"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name}: tag"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{name}: a success response"
            );
            for (status, res) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &res["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{name} {status}: error body"
                    );
                }
            }
            if op.get("security").is_some() {
                assert!(
                    responses.contains_key("401"),
                    "{name}: secured, so it documents 401"
                );
                assert!(
                    responses.contains_key("403"),
                    "{name}: secured, so it documents 403"
                );
            }
        }
    }
}

#[test]
fn every_object_schema_has_an_example() {
    let spec = generated();
    let has_example = |v: &Value| v.get("example").is_some() || v.get("examples").is_some();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        // A generic wrapper (a page of X) is exemplified by its parts: each property has an
        // example or refers to a schema that has one.
        let by_parts = props.values().all(|p| {
            has_example(p)
                || has_example(&p["items"])
                || p.get("$ref").is_some()
                || p["items"].get("$ref").is_some()
        });
        assert!(
            has_example(schema) || by_parts,
            "schema {name} has no example"
        );
    }
    let codes = spec["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    assert!(codes.iter().any(|c| c == "validation_failed"));
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
}

/// Every (method, path) of the spec reaches a handler: none answers `route_not_found` or 405.
#[tokio::test]
async fn every_documented_route_is_served() {
    let app = TestApp::spawn().await;
    let spec = generated();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", "0193a5d2-8d2f-7c7b-8a1f-3e5d2c9b0f12")
            .replace("{code}", "phq9");
        for method in item.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let body =
                matches!(method.as_str(), "post" | "put" | "patch").then(|| serde_json::json!({}));
            let res = app.request(m, &concrete, None, body).await;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !text.contains("route_not_found") || path == "/api/v1/auth/dev",
                "{method} {path} is not served"
            );
            checked += 1;
        }
    }
    assert!(checked >= 15);
}
