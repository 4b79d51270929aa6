//! The JSON API over real HTTP: login with a bearer token, who am I, the driver's privacy
//! switch (on the audit ledger), problem+json errors, and slowed-down brute force.

mod common;

use common::*;

const PASSWORD: &str = "correct horse battery staple";

async fn app_with_kari() -> TestApp {
    let app = spawn_app(|_| {}).await;
    let store = storage::open(app.data()).expect("open");
    let hash = access::hash_password_with(PASSWORD, access::PasswordParams::TEST).expect("hash");
    store
        .add_user(
            &storage::NewUser {
                name: "kari".into(),
                roles: vec!["employee".into()],
                employee_number: Some("1001".into()),
                password_hash: Some(hash),
            },
            domain::Timestamp::from_millis(0),
        )
        .expect("user");
    app
}

async fn login(app: &TestApp, password: &str) -> (u16, serde_json::Value) {
    let body = serde_json::json!({ "name": "kari", "password": password }).to_string();
    let (status, text) = http(
        app.http,
        "POST",
        "/api/v1/login",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await
    .expect("an answer");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn a_driver_logs_in_and_switches_privacy_mode() {
    let app = app_with_kari().await;
    let (status, body) = login(&app, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().expect("a token").to_owned();
    let auth = format!("Bearer {token}");

    let (status, me) = http(
        app.http,
        "GET",
        "/api/v1/me",
        &[("Authorization", &auth)],
        b"",
    )
    .await
    .expect("answer");
    assert_eq!(status, 200);
    let me: serde_json::Value = serde_json::from_str(&me).expect("json");
    assert_eq!(
        (me["name"].as_str(), me["employee"].as_str()),
        (Some("kari"), Some("1001"))
    );

    let (status, switched) = http(
        app.http,
        "POST",
        "/api/v1/me/privacy",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        br#"{"on":true}"#,
    )
    .await
    .expect("answer");
    assert_eq!(status, 200, "{switched}");
    assert_eq!(switched, r#"{"private":true,"vehicle":"EK12345"}"#);
    let store = storage::open(app.data()).expect("open");
    let vehicle = store
        .vehicle_id(&domain::RegNo::parse("EK12345").expect("reg"))
        .expect("q")
        .expect("v");
    assert_eq!(
        store
            .privacy_switches(&common::driver_1001(), vehicle)
            .expect("switches")
            .first()
            .map(|s| s.1),
        Some(true)
    );
    let ledger = store.audit_entries().expect("ledger");
    let last = &ledger.last().expect("an entry").entry;
    assert_eq!(
        (
            last.actor.as_str(),
            last.subject.as_deref(),
            last.object.as_str()
        ),
        ("kari", Some("1001"), "privacy mode on for EK12345")
    );
}

#[tokio::test]
async fn wrong_passwords_and_tokens_are_refused_and_guessing_is_slowed_down() {
    let app = app_with_kari().await;
    let (status, body) = login(&app, "not the password").await;
    assert_eq!(status, 401);
    assert_eq!(body["title"], "Login failed");
    assert_eq!(body["status"], 401);
    for _ in 0..4 {
        login(&app, "still not it").await;
    }
    let (status, body) = login(&app, PASSWORD).await;
    assert_eq!(
        status, 429,
        "after five failures even the right password waits: {body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("seconds")),
        "{body}"
    );

    let (status, _) = http(
        app.http,
        "GET",
        "/api/v1/me",
        &[("Authorization", "Bearer 0000")],
        b"",
    )
    .await
    .expect("answer");
    assert_eq!(status, 401);
    let (status, _) = http(app.http, "GET", "/api/v1/me", &[], b"")
        .await
        .expect("answer");
    assert_eq!(status, 401);
}
