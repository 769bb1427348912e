//! A company's sites, black-box against the local stack: CORS answered by the functions
//! (preflights on company and chat routes, allowed and unknown origins, no 405, no budget
//! spent), `allowed_origins` and `business_hours` (their 422s, at once in effect), the
//! public availability route (404, `open_now`, `online` from TEAMSOCKET# items, the reply
//! time from FIRSTRESPONSE# items, its budget) and short-lived API tokens.

use api_tests::*;
use domain::clock;
use domain::ids::{CompanyId, EntityId};
use serde_json::{Value, json};

const PASSWORD: &str = "copper kettle orbit harbour";

/// An origin no other test uses.
fn site(tag: &str) -> String {
    format!(
        "https://{tag}-{}.example",
        ulid::Ulid::new().to_string().to_lowercase()
    )
}

/// A preflight, built now and sent when awaited (so many can run at once).
fn preflight(
    path: &str,
    origin: &str,
) -> impl std::future::Future<Output = Reply> + Send + 'static {
    let request = call("OPTIONS", path)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        );
    request.send()
}

async fn allow_origins(owner: &Operator, company: &str, origins: Value) -> Reply {
    call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(json!({ "allowed_origins": origins }))
        .send()
        .await
}

fn allowed(reply: &Reply) -> Option<&str> {
    reply.header("access-control-allow-origin")
}

#[tokio::test]
async fn preflights_answer_a_companys_origins_on_its_routes_and_its_chats() {
    let owner = operator("sites-preflight").await;
    let company = company(&owner, "Sites Co").await;
    let chat = chat(&owner, &company, Some(PASSWORD)).await;
    let shop = site("shop");
    allow_origins(&owner, &company, json!([shop]))
        .await
        .expect(200);

    for (path, methods) in [
        (
            format!("/api/companies/{company}"),
            "GET, PUT, DELETE, OPTIONS",
        ),
        (format!("/api/chats/{chat}/messages"), "GET, POST, OPTIONS"),
        (
            format!("/api/chats/{chat}/users/send-code"),
            "POST, OPTIONS",
        ),
    ] {
        let reply = preflight(&path, &shop).await;
        assert_eq!(reply.status.as_u16(), 204, "{path}: {}", reply.text);
        assert_eq!(allowed(&reply), Some(shop.as_str()), "{path}");
        assert_eq!(
            reply.header("access-control-allow-methods"),
            Some(methods),
            "{path}"
        );
        assert_eq!(
            reply.header("access-control-max-age"),
            Some("86400"),
            "{path}"
        );
        let headers = reply
            .header("access-control-allow-headers")
            .unwrap_or_default();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert!(
            reply.header("vary").is_some_and(|v| v.contains("Origin")),
            "{path}"
        );
        // An origin the company does not list: the same 204, without the header.
        let stranger = preflight(&path, "https://evil.example").await;
        assert_eq!(stranger.status.as_u16(), 204, "{path}");
        assert_eq!(
            allowed(&stranger),
            None,
            "{path}: an unknown origin is not allowed"
        );
    }

    // Actual answers, errors included, carry it for the company's origin only.
    let read = call("GET", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .header("origin", &shop)
        .send()
        .await
        .expect(200);
    assert_eq!(allowed(&read), Some(shop.as_str()));
    assert!(
        read.header("access-control-expose-headers")
            .is_some_and(|h| h.contains("retry-after"))
    );
    let unauthenticated = call("GET", &format!("/api/chats/{chat}/messages"))
        .header("origin", &shop)
        .send()
        .await
        .expect(401);
    assert_eq!(
        allowed(&unauthenticated),
        Some(shop.as_str()),
        "an error carries it too"
    );
    let elsewhere = call("GET", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect(200);
    assert_eq!(allowed(&elsewhere), None);
    // Another company's origin is not this one's.
    let other = company_with_origin(&owner).await;
    let reply = preflight(&format!("/api/companies/{company}"), &other).await;
    assert_eq!(allowed(&reply), None);
}

async fn company_with_origin(owner: &Operator) -> String {
    let other = company(owner, "Other Co").await;
    let origin = site("other");
    allow_origins(owner, &other, json!([origin]))
        .await
        .expect(200);
    origin
}

#[tokio::test]
async fn options_is_never_a_405_and_an_unknown_path_is_a_404() {
    let owner = operator("sites-options").await;
    let company = company(&owner, "Options Co").await;
    for path in [
        format!("/api/companies/{company}/availability"),
        "/api/tokens".to_owned(),
        "/api/user".to_owned(),
        "/widget.js".to_owned(),
    ] {
        let reply = call("OPTIONS", &path).send().await;
        assert_eq!(reply.status.as_u16(), 204, "{path}: {}", reply.text);
        assert!(
            reply
                .header("access-control-allow-methods")
                .is_some_and(|m| m.ends_with("OPTIONS"))
        );
    }
    // The widget's static answers are anyone's.
    let widget = preflight("/widget.js", "https://any.example").await;
    assert_eq!(allowed(&widget), Some("*"));
}

#[tokio::test]
async fn preflights_spend_no_budget_of_the_code_routes_or_the_availability_route() {
    let owner = operator("sites-budget").await;
    let company = company(&owner, "Budget Co").await;
    let chat = chat(&owner, &company, Some(PASSWORD)).await;
    let path = format!("/api/chats/{chat}/users/send-code");
    // More than the 50 codes an hour one source may ask for in one chat.
    let preflights: Vec<_> = (0..60)
        .map(|_| preflight(&path, "https://evil.example"))
        .collect();
    for reply in in_parallel(preflights, 8).await {
        assert_eq!(reply.status.as_u16(), 204);
    }
    // A real join from the same source still gets its code mailed and exchanged.
    let guest = verified_guest(&chat, PASSWORD, "after-preflights").await;
    assert!(!guest.token.is_empty());

    // More than the availability route's 120 a minute per source, in one window.
    room_in_window(
        &domain::rate_limit::budgets::AVAILABILITY_PER_SOURCE,
        std::time::Duration::from_secs(20),
    )
    .await;
    let path = format!("/api/companies/{company}/availability");
    let preflights: Vec<_> = (0..130)
        .map(|_| preflight(&path, "https://evil.example"))
        .collect();
    for reply in in_parallel(preflights, 8).await {
        assert_eq!(reply.status.as_u16(), 204);
    }
    call("GET", &path).send().await.expect(200);
}

#[tokio::test]
async fn allowed_origins_are_checked_deduplicated_and_in_effect_at_once() {
    let owner = operator("sites-origins").await;
    let company = company(&owner, "Origins Co").await;
    for bad in [
        json!(["https://shop.example/"]),
        json!(["https://shop.example/path"]),
        json!(["https://Shop.example"]),
        json!(["http://shop.example"]),
        json!(["http://localhost"]),
        json!(["https://*.example"]),
        json!(["*"]),
        json!(["shop.example"]),
        json!(["https://shop.example:443"]),
        json!([42]),
        json!("https://shop.example"),
        json!(
            (0..21)
                .map(|i| format!("https://s{i}.example"))
                .collect::<Vec<_>>()
        ),
    ] {
        let reply = allow_origins(&owner, &company, bad.clone())
            .await
            .expect(422);
        assert!(
            !reply.field_errors("allowed_origins").is_empty(),
            "{bad}: {}",
            reply.text
        );
    }
    let shop = site("shop");
    // Not yet allowed.
    let before = preflight(&format!("/api/companies/{company}"), &shop).await;
    assert_eq!(allowed(&before), None);
    let set = allow_origins(
        &owner,
        &company,
        json!([shop, "http://localhost:5173", shop, "http://127.0.0.1:8080"]),
    )
    .await
    .expect(200);
    assert_eq!(
        set.data()["allowed_origins"],
        json!([shop, "http://localhost:5173", "http://127.0.0.1:8080"]),
        "repeats are dropped"
    );
    // Adding a site is an API call: its very next request is allowed.
    let after = preflight(&format!("/api/companies/{company}"), &shop).await;
    assert_eq!(allowed(&after), Some(shop.as_str()));
    let read = call("GET", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .send()
        .await
        .expect(200);
    assert_eq!(
        read.data()["allowed_origins"].as_array().map(Vec::len),
        Some(3)
    );
    // null clears it, and the origin is out at once.
    allow_origins(&owner, &company, Value::Null)
        .await
        .expect(200);
    let cleared = preflight(&format!("/api/companies/{company}"), &shop).await;
    assert_eq!(allowed(&cleared), None);
}

async fn set_hours(owner: &Operator, company: &str, hours: Value) -> Reply {
    call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(json!({ "business_hours": hours }))
        .send()
        .await
}

async fn availability(company: &str) -> Reply {
    call("GET", &format!("/api/companies/{company}/availability"))
        .send()
        .await
}

/// The UTC weekday name of now plus `days`.
fn weekday(days: i64) -> &'static str {
    const DAYS: [&str; 7] = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"];
    let day = (clock::now_millis() / 86_400_000 + days).rem_euclid(7);
    DAYS[day as usize]
}

#[tokio::test]
async fn availability_is_public_and_follows_the_business_hours() {
    let owner = operator("sites-hours").await;
    let company = company(&owner, "Hours Co").await;
    availability(&CompanyId::new().to_string())
        .await
        .expect(404);
    availability("not-an-id").await.expect(404);

    let open = availability(&company).await.expect(200);
    assert_eq!(open.header("cache-control"), Some("public, max-age=30"));
    assert_eq!(
        open.data(),
        &json!({
            "company": { "name": "Hours Co" },
            "online": false,
            "open_now": true,
            "typically_replies_within_minutes": null,
        }),
        "no business hours: always open"
    );

    for bad in [
        json!({ "time_zone": "Mars/Olympus", "weekly": [] }),
        json!({ "time_zone": "UTC", "weekly": [{ "day": "monday", "from": "09:00", "to": "17:00" }] }),
        json!({ "time_zone": "UTC", "weekly": [{ "day": "mon", "from": "9:00", "to": "17:00" }] }),
        json!({ "time_zone": "UTC", "weekly": [{ "day": "mon", "from": "09:00", "to": "09:00" }] }),
        json!({ "time_zone": "UTC", "weekly": (0..51).map(|_| json!({ "day": "mon", "from": "09:00", "to": "10:00" })).collect::<Vec<_>>() }),
        json!("nine to five"),
    ] {
        let reply = set_hours(&owner, &company, bad.clone()).await.expect(422);
        assert!(
            !reply.field_errors("business_hours").is_empty(),
            "{bad}: {}",
            reply.text
        );
    }

    // Two days from now only: closed now.
    let closed = json!({ "time_zone": "UTC", "weekly": [{ "day": weekday(2), "from": "09:00", "to": "10:00" }] });
    let set = set_hours(&owner, &company, closed.clone())
        .await
        .expect(200);
    assert_eq!(set.data()["business_hours"], closed);
    assert_eq!(
        availability(&company).await.expect(200).data()["open_now"],
        false
    );
    // Every day, all day, in another zone: open.
    let week: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|day| json!({ "day": day, "from": "00:00", "to": "24:00" }))
        .collect();
    set_hours(
        &owner,
        &company,
        json!({ "time_zone": "Asia/Tokyo", "weekly": week }),
    )
    .await
    .expect(200);
    assert_eq!(
        availability(&company).await.expect(200).data()["open_now"],
        true
    );
    // null: always open again.
    set_hours(&owner, &company, Value::Null).await.expect(200);
    let reply = availability(&company).await.expect(200);
    assert_eq!(reply.data()["open_now"], true);
}

async fn put_item(item: storage::Item) {
    dynamodb()
        .await
        .put_item()
        .table_name(table_name())
        .set_item(Some(item))
        .send()
        .await
        .expect("an item put in place of its writer");
}

#[tokio::test]
async fn online_and_the_reply_time_come_from_the_companys_items() {
    let owner = operator("sites-online").await;
    let online_co = company(&owner, "Online Co").await;
    let id = CompanyId::parse(&online_co).unwrap();
    let now_secs = clock::now_millis() / 1000;
    assert_eq!(
        availability(&online_co).await.expect(200).data()["online"],
        false
    );

    // A stream whose TTL passed (DynamoDB deletes late) is not a member online.
    put_item(storage::availability::team_socket_item(
        id,
        "stale-connection",
        now_secs - 60,
    ))
    .await;
    assert_eq!(
        availability(&online_co).await.expect(200).data()["online"],
        false
    );
    put_item(storage::availability::team_socket_item(
        id,
        "live-connection",
        now_secs + 3600,
    ))
    .await;
    assert_eq!(
        availability(&online_co).await.expect(200).data()["online"],
        true
    );

    // Fewer than 5 first responses say nothing.
    let minute = 60_000;
    let samples = [30_000, 90_000, 200_000, 10 * minute, 45 * minute];
    for (i, ms) in samples.iter().take(4).enumerate() {
        let at = clock::rfc3339(clock::now_millis() - 3_600_000 + i as i64 * 1000);
        put_item(storage::availability::first_response_item(
            id,
            &at,
            &format!("chat{i}"),
            *ms,
            now_secs + 86_400,
        ))
        .await;
    }
    let reply = availability(&online_co).await.expect(200);
    assert_eq!(
        reply.data()["typically_replies_within_minutes"],
        Value::Null
    );
    // The fifth: the median is 200 s, rounded up to 4 minutes.
    let at = clock::rfc3339(clock::now_millis());
    put_item(storage::availability::first_response_item(
        id,
        &at,
        "chat4",
        samples[4],
        now_secs + 86_400,
    ))
    .await;
    let reply = availability(&online_co).await.expect(200);
    assert_eq!(reply.data()["typically_replies_within_minutes"], 4);
    // Another company's items are not this one's.
    let other = company(&owner, "Quiet Co").await;
    let quiet = availability(&other).await.expect(200);
    assert_eq!(quiet.data()["online"], false);
    assert_eq!(
        quiet.data()["typically_replies_within_minutes"],
        Value::Null
    );
}

async fn login(op: &Operator, body: Value) -> Reply {
    let mut body = body;
    body["email"] = json!(op.email);
    body["password"] = json!(op.password);
    call("POST", "/api/tokens").json(body).send().await
}

#[tokio::test]
async fn a_token_may_be_short_lived() {
    let op = operator("sites-tokens").await;
    for bad in [
        json!(59),
        json!(2_592_001),
        json!(-1),
        json!(1.5),
        json!("soon"),
        json!(true),
    ] {
        let reply = login(&op, json!({ "expires_in": bad })).await.expect(422);
        assert!(
            !reply.field_errors("expires_in").is_empty(),
            "{bad}: {}",
            reply.text
        );
    }
    let issued = login(&op, json!({ "expires_in": 60 })).await.expect(201);
    let token = issued.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&token);
    let expires_at = issued.data()["expires_at"].as_str().unwrap();
    let at = clock::parse_rfc3339(expires_at).unwrap();
    let expected = clock::now_millis() + 60_000;
    assert!(
        (at - expected).abs() < 10_000,
        "{expires_at} is a minute from now"
    );
    assert_eq!(issued.data()["api_token"]["expires_at"], expires_at);
    call("GET", "/api/user")
        .api(&token)
        .send()
        .await
        .expect(200);
    // The list shows it too; without expires_in a token lives until revoked.
    let forever = login(&op, json!({})).await.expect(201);
    remember_secret(forever.data()["token"].as_str().unwrap());
    assert_eq!(forever.data()["expires_at"], Value::Null);
    let list = call("GET", "/api/tokens")
        .api(&token)
        .send()
        .await
        .expect(200);
    let shown: Vec<&Value> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["expires_at"])
        .collect();
    assert!(shown.contains(&&json!(expires_at)), "{shown:?}");
}

/// Console sign-ins (short-lived tokens) never fill the 50-token cap: at the cap, a new
/// short-lived token takes the place of the operator's token that expires first. A token
/// that lives until revoked is never the one evicted, and no room is made for one.
#[tokio::test]
async fn console_sign_ins_never_fill_the_token_cap() {
    let op = operator("sites-token-cap").await;
    let user = |token: &str| call("GET", "/api/user").api(token).send();
    // operator() issued one token that lives until revoked; 49 sign-ins fill the cap.
    let mut signed_in = Vec::new();
    for _ in 1..50 {
        let reply = login(&op, json!({ "expires_in": 3600 })).await.expect(201);
        let token = reply.data()["token"].as_str().unwrap().to_owned();
        remember_secret(&token);
        signed_in.push(token);
    }
    let refused = login(&op, json!({})).await.expect(409);
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap()
            .contains("50 API tokens")
    );

    let next = login(&op, json!({ "expires_in": 3600 })).await.expect(201);
    let next = next.data()["token"].as_str().unwrap().to_owned();
    remember_secret(&next);
    user(&next).await.expect(200);
    // The sign-in that expires first gave way; the next one and the lasting token stay.
    user(&signed_in[0]).await.expect(401);
    user(&signed_in[1]).await.expect(200);
    user(&op.token).await.expect(200);
    let held = call("GET", "/api/tokens?per_page=100")
        .api(&op.token)
        .send()
        .await
        .expect(200);
    assert_eq!(
        held.data().as_array().unwrap().len(),
        50,
        "still at the cap, not over it"
    );
    // Still no room for a lasting token.
    login(&op, json!({})).await.expect(409);
}
