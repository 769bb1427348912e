//! Email continuity through the local stack: unread messages emailed to guests who are
//! away (the stream dispatcher, the notify queue with its delay, the notify function),
//! the one-click unsubscribe, and the transcript. Locally a chat's minute lasts one
//! second (`UNREAD_EMAIL_SECONDS_PER_MINUTE=1`), so a 2-minute chat emails after ~2 s.

use api_tests::*;
use serde_json::json;

const PASSWORD: &str = "kettle-club-2026";

/// A chat whose unread messages are emailed after `minutes` (seconds, locally).
async fn chat_emailing_after(tag: &str, minutes: u32) -> (Operator, String) {
    let owner = operator(tag).await;
    let company = company(&owner, "Continuity").await;
    let reply = call("POST", "/api/chats")
        .api(&owner.token)
        .json(
            json!({ "company_id": company, "name": "Support", "password": PASSWORD,
                      "unread_email_minutes": minutes }),
        )
        .send()
        .await
        .expect(201);
    assert_eq!(reply.data()["unread_email_minutes"], minutes);
    // Open all week, in Tokyo: the emails show times in the company's time zone.
    let always: Vec<_> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|day| json!({ "day": day, "from": "00:00", "to": "24:00" }))
        .collect();
    call("PUT", &format!("/api/companies/{company}"))
        .api(&owner.token)
        .json(json!({
            "widget_url": "https://shop.example/help",
            "business_hours": { "time_zone": "Asia/Tokyo", "weekly": always },
        }))
        .send()
        .await
        .expect(200);
    (owner, reply.data()["id"].as_str().unwrap().to_owned())
}

async fn post(chat: &str, author: &Member, body: &str) -> serde_json::Value {
    post_message(chat, &author.token, body).await
}

/// Sends `member`'s unread-message check to the notify queue once more, due in `secs`.
async fn redeliver_notify_job(chat: &str, member: &Member, secs: u64) {
    use domain::ids::EntityId;
    let job = domain::jobs::NotifyJob {
        chat_id: EntityId::parse(chat).unwrap(),
        chat_user_id: EntityId::parse(&member.id).unwrap(),
        not_before: None,
    };
    let url = std::env::var("NOTIFY_QUEUE_URL").expect("NOTIFY_QUEUE_URL (set by make test)");
    services::queue::Queue::new(&aws().await, url)
        .send(&job, std::time::Duration::from_secs(secs))
        .await
        .unwrap();
}

/// The unread-message emails an address got: (subject, body).
async fn unread_emails(address: &str) -> Vec<(String, String)> {
    emails_to(address)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.contains("unread"))
        .collect()
}

#[tokio::test]
async fn an_unread_message_is_emailed_once_to_those_away_and_never_to_its_author() {
    let (_, chat) = chat_emailing_after("continuity-unread", 2).await;
    let ann = verified_guest(&chat, PASSWORD, "ann").await;
    let bob = verified_guest(&chat, PASSWORD, "bob").await;
    let carol = verified_guest(&chat, PASSWORD, "carol").await;

    let first = post(&chat, &ann, "Is the <b>kettle</b> back in stock?").await;
    post(&chat, &ann, "Asking for a friend.").await;
    // Carol reads at once: nothing to tell her.
    call("PUT", &format!("/api/chats/{chat}/read"))
        .bearer(&carol.token)
        .json(json!({ "seq": first["seq"].as_u64().unwrap() + 1 }))
        .send()
        .await
        .expect(200);

    assert!(
        eventually(40, || async { !unread_emails(&bob.email).await.is_empty() }).await,
        "Bob, away, gets an email"
    );
    // The queue delivers at least once: the same job again, as a redelivery would bring
    // it once the 2 s window is over, lists nothing new and sends nothing.
    redeliver_notify_job(&chat, &bob, 3).await;
    // Long enough for a second email, had the window or the job been doubled.
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    let to_bob = unread_emails(&bob.email).await;
    assert_eq!(to_bob.len(), 1, "one email for both messages: {to_bob:?}");
    let (subject, body) = &to_bob[0];
    assert_eq!(subject, "2 unread messages in Support");
    assert!(
        body.contains("ann") && body.contains("Asking for a friend."),
        "{body}"
    );
    assert!(
        body.find("kettle").unwrap() < body.find("Asking for a friend.").unwrap(),
        "oldest first"
    );
    // Times as people read them ("Sat 5 Dec 2026, 23:03 JST"), never RFC 3339.
    assert!(body.contains(" JST"), "{body}");
    assert!(
        !holds_an_rfc3339_time(body),
        "a raw RFC 3339 time in {body}"
    );
    assert!(
        body.contains(&format!("https://shop.example/help?chat_id={chat}")),
        "{body}"
    );
    assert!(
        unread_emails(&ann.email).await.is_empty(),
        "not to the author"
    );
    assert!(
        unread_emails(&carol.email).await.is_empty(),
        "not after reading"
    );

    // The unsubscribe link: a GET only shows a button, the POST turns the emails off.
    let marker = "/api/email/unsubscribe?token=";
    let start = body
        .find(marker)
        .expect("the email carries its unsubscribe link")
        + marker.len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    remember_secret(&token);
    let page = call("GET", "/api/email/unsubscribe")
        .query("token", &token)
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<form method=\"post\""), "{}", page.text);
    let me = call("GET", "/api/chat-user")
        .bearer(&bob.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.data()["unread_emails"], true, "a GET changes nothing");
    let done = call("POST", "/api/email/unsubscribe")
        .query("token", &token)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await;
    assert_eq!(done.status, 200);
    let me = call("GET", "/api/chat-user")
        .bearer(&bob.token)
        .send()
        .await
        .expect(200);
    assert_eq!(me.data()["unread_emails"], false);
    let forged = token.replacen(&bob.id, &ann.id, 1);
    call("POST", "/api/email/unsubscribe")
        .query("token", &forged)
        .send()
        .await
        .expect(404);

    // Past Bob's window: a new message reaches Carol (away now) but not unsubscribed Bob.
    post(&chat, &ann, "Back in stock tomorrow.").await;
    assert!(
        eventually(40, || async {
            !unread_emails(&carol.email).await.is_empty()
        })
        .await,
        "Carol, away with an unread message, gets an email"
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(
        unread_emails(&bob.email).await.len(),
        1,
        "nothing after unsubscribing"
    );
}

#[tokio::test]
async fn a_chat_with_emails_off_sends_none() {
    let (owner, chat) = chat_emailing_after("continuity-off", 1).await;
    call("PUT", &format!("/api/chats/{chat}"))
        .api(&owner.token)
        .json(json!({ "unread_email_minutes": 0 }))
        .send()
        .await
        .expect(200);
    let ann = verified_guest(&chat, PASSWORD, "ann").await;
    let bob = verified_guest(&chat, PASSWORD, "bob").await;
    post(&chat, &ann, "anyone?").await;
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert!(unread_emails(&bob.email).await.is_empty());
    let bad = call("PUT", &format!("/api/chats/{chat}"))
        .api(&owner.token)
        .json(json!({ "unread_email_minutes": 5000 }))
        .send()
        .await
        .expect(422);
    assert!(!bad.field_errors("unread_email_minutes").is_empty());
}

#[tokio::test]
async fn a_transcript_holds_every_message_and_is_throttled() {
    let (owner, chat) = chat_emailing_after("continuity-transcript", 0).await;
    let ann = verified_guest(&chat, PASSWORD, "ann").await;
    let bob = verified_guest(&chat, PASSWORD, "bob").await;
    let bodies: Vec<String> = (1..=120).map(|i| format!("line number {i:03}")).collect();
    for (i, body) in bodies.iter().enumerate() {
        let author = if i % 2 == 0 { &ann } else { &bob };
        post(&chat, author, body).await;
    }
    let path = format!("/api/chats/{chat}/users/{}/transcript", bob.id);
    call("POST", &path)
        .bearer(&bob.token)
        .send()
        .await
        .expect(202);
    let again = call("POST", &path)
        .bearer(&bob.token)
        .send()
        .await
        .expect(429);
    assert!(again.header("retry-after").is_some());
    // Ann may not ask for Bob's; the owner may.
    call("POST", &path)
        .bearer(&ann.token)
        .send()
        .await
        .expect(403);

    let transcripts: Vec<(String, String)> = emails_to(&bob.email)
        .await
        .into_iter()
        .filter(|(subject, _)| subject.starts_with("Transcript"))
        .collect();
    assert_eq!(transcripts.len(), 1);
    let (subject, body) = &transcripts[0];
    assert_eq!(subject, "Transcript of Support");
    let mut at = 0;
    for line in &bodies {
        let found = body[at..]
            .find(line.as_str())
            .unwrap_or_else(|| panic!("{line} missing or out of order"));
        at += found + line.len();
    }
    let other = format!("/api/chats/{chat}/users/{}/transcript", ann.id);
    call("POST", &other)
        .api(&owner.token)
        .send()
        .await
        .expect(202);
}

/// Whether `text` holds something shaped like `2026-12-05T14:03`.
fn holds_an_rfc3339_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(16).any(|w| {
        let digits = |range: std::ops::Range<usize>| w[range].iter().all(u8::is_ascii_digit);
        digits(0..4)
            && w[4] == b'-'
            && digits(5..7)
            && w[7] == b'-'
            && digits(8..10)
            && w[10] == b'T'
            && digits(11..13)
            && w[13] == b':'
            && digits(14..16)
    })
}
