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
    let served = app.get_ok("/api-docs/openapi.json", None).await;
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
            let security = op["security"].as_array().expect("security declared");
            let optional = security.iter().any(|r| r == &serde_json::json!({}));
            if !security.is_empty() {
                assert!(
                    responses.contains_key("401"),
                    "{name}: secured, so it documents 401"
                );
                assert!(
                    optional || responses.contains_key("403"),
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
        }
    }
}

/// What an integrator's client generator needs (issue #12): one explicit, unique, snake_case
/// operationId each; security declared on every operation (`[]` when public); every closed
/// set of values an enum; the request id header on every answer and `Retry-After` on 429;
/// servers named; list items referenced, not copied.
#[test]
fn the_spec_is_one_a_client_generator_can_build_from() {
    let spec = generated();
    // Integrators read it: no pointers into this project's planning documents.
    let text = spec.to_string().to_lowercase();
    for planning in ["seed 0", "附件 ", "(#", "issue #", "product.md", "api.md"] {
        assert!(!text.contains(planning), "the spec mentions {planning:?}");
    }
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().expect("operationId");
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}: {id}"
            );
            assert!(
                ids.insert(id.to_owned()),
                "{name}: operationId {id} used twice"
            );
            assert!(op["security"].is_array(), "{name}: security declared");
            for (status, res) in op["responses"].as_object().unwrap() {
                assert!(
                    res["headers"]["x-request-id"].is_object(),
                    "{name} {status}: x-request-id header"
                );
                if status == "429" {
                    assert!(
                        res["headers"]["retry-after"].is_object(),
                        "{name}: Retry-After"
                    );
                }
            }
        }
    }
    assert_eq!(
        spec["servers"][0]["url"],
        xinli_api::openapi::DEFAULT_SERVER
    );

    // Status-like fields are enums (directly or through a referenced enum schema).
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let closed = [
        "status",
        "priority",
        "sender",
        "reason_code",
        "role",
        "actor_role",
        "channel",
        "topic",
        "action",
        "kind",
        "audience",
    ];
    // A count of any one of several kinds (status, priority or scale code) is the exception,
    // and so are the label lists, named after the set they describe (`GET /labels`, checked
    // value by value against these enums in `every_closed_set_has_its_words`).
    let mixed = [("StatusCount", "status")];
    for (schema_name, schema) in schemas {
        let Some(props) = schema["properties"].as_object() else {
            continue;
        };
        if schema_name == "Labels" {
            continue;
        }
        for (field, prop) in props {
            if !closed.contains(&field.as_str()) || mixed.contains(&(schema_name, field)) {
                continue;
            }
            let target = prop["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|n| schemas.get(n))
                .unwrap_or(prop);
            assert!(
                target["enum"].is_array() || target["oneOf"].is_array() || prop["oneOf"].is_array(),
                "{schema_name}.{field} is a closed set: it needs an enum"
            );
        }
        if let Some(item) = schema_name.strip_prefix("Paged_") {
            assert_eq!(
                schema["properties"]["items"]["items"]["$ref"],
                format!("#/components/schemas/{item}"),
                "{schema_name} refers to its items"
            );
        }
    }
}

/// The schema states the rules the server enforces, from the same lists and numbers the
/// domain uses (a sample of fields; the rest follow the same pattern).
#[test]
fn schema_rules_match_the_domain() {
    use xinli_domain::consultation as c;
    let spec = generated();
    let s = &spec["components"]["schemas"];
    let values = |name: &str| -> Vec<String> {
        s[name]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(values("ConsultationTopic"), c::TOPICS);
    assert_eq!(values("ConsultationChannel"), c::CHANNELS);
    assert_eq!(
        values("ConsultationStatus"),
        c::Status::ALL.map(|x| x.as_str())
    );
    assert_eq!(values("ChatSender"), c::Sender::ALL.map(|x| x.as_str()));
    let rating = &s["ConsultationRatingRequest"]["properties"];
    assert_eq!(rating["score"]["minimum"], c::MIN_SCORE);
    assert_eq!(rating["score"]["maximum"], c::MAX_SCORE);
    assert_eq!(rating["comment"]["maxLength"], c::MAX_COMMENT_CHARS);
    assert_eq!(
        s["ChatMessageRequest"]["properties"]["text"]["maxLength"],
        c::MAX_MESSAGE_CHARS
    );
    assert_eq!(
        s["ConsultationCreateRequest"]["properties"]["description"]["maxLength"],
        c::MAX_DESCRIPTION_CHARS
    );
    let list = &spec["paths"]["/api/v1/articles"]["get"]["parameters"];
    let max = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["schema"]["maxLength"]
            .clone()
    };
    assert_eq!(max("q"), xinli_domain::article::MAX_QUERY_CHARS);
    assert_eq!(max("tag"), xinli_domain::article::MAX_TAG_CHARS);
    assert_eq!(
        s["ArticleRequest"]["properties"]["tags"]["maxItems"],
        xinli_domain::article::MAX_TAGS
    );
    let staff = &s["CreateStaffRequest"]["properties"];
    use xinli_domain::account::{NewPassword, Username};
    assert_eq!(staff["username"]["maxLength"], Username::MAX_CHARS);
    assert_eq!(staff["password"]["minLength"], NewPassword::MIN_CHARS);
    assert_eq!(staff["password"]["maxLength"], NewPassword::MAX_CHARS);
}

/// `GET /labels` gives words for every value of each closed set the spec declares, in the
/// spec's order: a value added to an enum without its label fails here.
#[tokio::test]
async fn every_closed_set_has_its_words() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/api/v1/labels", None, None).await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let labels: serde_json::Value = res.json().await.unwrap();
    let spec = generated();
    let schemas = &spec["components"]["schemas"];
    let pairs = [
        ("consultation_status", "ConsultationStatus"),
        ("priority", "ConsultationPriority"),
        ("sender", "ChatSender"),
        ("article_status", "ArticleStatusName"),
        ("article_kind", "KindName"),
        ("audience", "Audience"),
        ("lecture_status", "LectureStatusName"),
        ("booking_status", "BookingStatusName"),
        ("risk_level", "RiskLevelName"),
        ("risk_source", "AlertSourceName"),
        ("staff_role", "StaffRoleName"),
        ("day", "DayName"),
        ("hours_kind", "HoursKind"),
        ("service", "ServiceName"),
    ];
    assert_eq!(labels.as_object().unwrap().len(), pairs.len());
    for (set, schema) in pairs {
        let values: Vec<&str> = labels[set]
            .as_array()
            .unwrap_or_else(|| panic!("{set}"))
            .iter()
            .map(|l| l["value"].as_str().unwrap())
            .collect();
        let declared: Vec<&str> = schemas[schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema}"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(values, declared, "{set} vs {schema}");
        for l in labels[set].as_array().unwrap() {
            let words = l["label"].as_str().unwrap();
            assert!(!words.is_ascii(), "{set}.{}: {words:?}", l["value"]);
        }
    }
    assert_eq!(labels["consultation_status"][0]["label"], "排队中");
}
