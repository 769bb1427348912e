//! Attachments (spec §10), black-box: a file goes up to the bucket with the presigned POST
//! the API hands out, a message names it, and readers get it back through links minted per
//! read. moto stores whatever is POSTed (it enforces no POST policy), so every limit is
//! asserted where the API enforces it: at the upload request or at the check a message
//! runs before it is visible. Deleting the message and erasing its uploader remove the
//! objects (listed straight from moto's S3).

use api_tests::*;
use serde_json::{Value, json};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// The local stack's bucket (infra/local/common.sh: `files_bucket`).
fn bucket() -> String {
    std::env::var("FILES_BUCKET").unwrap_or_else(|_| format!("{}-files", table_name()))
}

async fn slot(token: &str, chat: &str, filename: &str, content_type: &str, size: usize) -> Reply {
    call("POST", &format!("/api/chats/{chat}/attachments"))
        .bearer(token)
        .json(json!({ "filename": filename, "content_type": content_type, "size": size }))
        .send()
        .await
}

/// Sends `bytes` as `upload` says (the fields, then the file), as a browser's form does.
async fn upload(slot: &Value, bytes: &[u8]) {
    let upload = &slot["upload"];
    assert_eq!(upload["method"], "POST");
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in upload["fields"].as_object().unwrap() {
        form = form.text(name.clone(), value.as_str().unwrap().to_owned());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name("f"),
    );
    let answer = http()
        .post(upload["url"].as_str().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "upload: {}", answer.status());
}

/// A slot for `bytes` as `content_type`, filled.
async fn uploaded(
    token: &str,
    chat: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> String {
    let slot = slot(token, chat, filename, content_type, bytes.len())
        .await
        .expect(201);
    remember_secret(
        slot.data()["upload"]["fields"]["x-amz-signature"]
            .as_str()
            .unwrap(),
    );
    upload(slot.data(), bytes).await;
    slot.data()["id"].as_str().unwrap().to_owned()
}

async fn post_with(token: &str, chat: &str, body: Value) -> Reply {
    call("POST", &format!("/api/chats/{chat}/messages"))
        .bearer(token)
        .json(body)
        .send()
        .await
}

/// The served bytes and headers behind an attachment's link.
async fn download(attachment: &Value) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let url = attachment["url"].as_str().unwrap();
    let answer = http().get(url).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200, "download");
    let headers = answer.headers().clone();
    (headers, answer.bytes().await.unwrap().to_vec())
}

/// `X-Amz-Expires` of a presigned URL.
fn expires_in(url: &str) -> u64 {
    url.split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("X-Amz-Expires="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no X-Amz-Expires in the link"))
}

/// The keys moto's bucket holds under `prefix` (an unsigned ListObjectsV2: moto asks for
/// no signature).
async fn objects(prefix: &str) -> Vec<String> {
    let listing = http()
        .get(format!(
            "{}/{}?list-type=2&prefix={prefix}",
            moto_url(),
            bucket()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_pdf_goes_up_is_attached_and_comes_back_as_a_download_through_fresh_links() {
    let r = room("attach-pdf").await;
    let id = uploaded(
        &r.ann.token,
        &r.chat,
        "Order 4711.pdf",
        "application/pdf",
        PDF,
    )
    .await;
    let posted = post_with(
        &r.ann.token,
        &r.chat,
        json!({ "attachment_ids": [id], "client_id": "pdf-1" }),
    )
    .await
    .expect(201);
    let message = posted.data().clone();
    assert_eq!(message["body"], "");
    let attachment = &message["attachments"][0];
    assert_eq!(attachment["id"], id.as_str());
    assert_eq!(attachment["filename"], "Order 4711.pdf");
    assert_eq!(attachment["content_type"], "application/pdf");
    assert_eq!(attachment["size"], PDF.len());
    assert!(attachment["expires_at"].is_string());
    let (headers, bytes) = download(attachment).await;
    assert_eq!(bytes, PDF, "a PDF is served byte for byte");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert_eq!(headers["content-type"], "application/pdf");

    // The other guest reads it: every read mints its own link, of at most 15 minutes.
    let path = format!("/api/chats/{}/messages", r.chat);
    let list = call("GET", &path)
        .bearer(&r.bob.token)
        .send()
        .await
        .expect(200);
    let first = list.data()[0]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(expires_in(&first) <= 900);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let one = call(
        "GET",
        &format!("{path}/{}", message["id"].as_str().unwrap()),
    )
    .bearer(&r.bob.token)
    .send()
    .await
    .expect(200);
    let second = one.data()["attachments"][0]["url"].as_str().unwrap();
    assert!(expires_in(second) <= 900);
    assert_ne!(first, second, "a fresh link per read");
    assert_eq!(download(&one.data()["attachments"][0]).await.1, PDF);

    // The event carries the metadata, no link.
    let events = call("GET", &format!("/api/chats/{}/events", r.chat))
        .bearer(&r.bob.token)
        .send()
        .await
        .expect(200);
    let created = events
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "message.created" && e["data"]["id"] == message["id"]);
    let carried = &created.unwrap()["data"]["attachments"][0];
    assert_eq!(carried["id"], id.as_str());
    assert!(carried.get("url").is_none(), "{carried}");

    // A replay of the client_id answers the first message, attachments and all.
    let replay = post_with(
        &r.ann.token,
        &r.chat,
        json!({ "attachment_ids": [id], "client_id": "pdf-1" }),
    )
    .await
    .expect(200);
    assert_eq!(replay.data()["id"], message["id"]);
    assert_eq!(replay.data()["attachments"][0]["id"], id.as_str());
    // Without it, the attachment is used: a 422.
    let again = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [id] }))
        .await
        .expect(422);
    assert!(again.field_errors("attachment_ids")[0].contains("already attached"));
}

#[tokio::test]
async fn what_arrived_must_be_what_was_declared() {
    let r = room("attach-check").await;
    // Declared a PNG, sent text of the same size.
    let text = b"this is not a picture, only some text of some length";
    let png = uploaded(&r.ann.token, &r.chat, "cat.png", "image/png", text).await;
    let refused = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [png] }))
        .await
        .expect(422);
    let errors = refused.field_errors("attachment_ids");
    assert!(errors[0].contains("image/png"), "{errors:?}");
    // Declared 200 bytes, sent fewer (moto stores it; real S3 would refuse the POST).
    let slot = slot(&r.ann.token, &r.chat, "notes.txt", "text/plain", 200)
        .await
        .expect(201);
    upload(slot.data(), b"short").await;
    let id = slot.data()["id"].as_str().unwrap();
    let refused = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [id] }))
        .await
        .expect(422);
    assert!(refused.field_errors("attachment_ids")[0].contains("size"));
    // A slot never filled.
    let empty = slot_id(&r.ann.token, &r.chat).await;
    let refused = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [empty] }))
        .await
        .expect(422);
    assert!(refused.field_errors("attachment_ids")[0].contains("not uploaded"));
    // Nothing failed was posted, nothing is served.
    let list = call("GET", &format!("/api/chats/{}/messages", r.chat))
        .bearer(&r.ann.token)
        .send()
        .await
        .expect(200);
    assert!(list.data().as_array().unwrap().is_empty());
    assert!(objects(&format!("files/{}/", r.chat)).await.is_empty());
}

async fn slot_id(token: &str, chat: &str) -> String {
    let slot = slot(token, chat, "later.pdf", "application/pdf", 1000)
        .await
        .expect(201);
    slot.data()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn svg_html_and_bad_names_are_refused_at_the_upload_request() {
    let r = room("attach-types").await;
    for content_type in ["image/svg+xml", "text/html", "application/x-msdownload"] {
        let refused = slot(&r.ann.token, &r.chat, "x", content_type, 10)
            .await
            .expect(422);
        assert_eq!(
            refused.field_errors("content_type").len(),
            1,
            "{content_type}"
        );
    }
    for filename in ["../../etc/passwd", "a\u{0}b", ""] {
        slot(&r.ann.token, &r.chat, filename, "text/plain", 10)
            .await
            .expect(422);
    }
    let too_big = slot(
        &r.ann.token,
        &r.chat,
        "big.zip",
        "application/zip",
        10 * 1024 * 1024 + 1,
    )
    .await
    .expect(422);
    assert_eq!(too_big.field_errors("size").len(), 1);
    // Someone who may not read the chat gets no slot.
    let other = room("attach-types-other").await;
    slot(&other.ann.token, &r.chat, "x.txt", "text/plain", 10)
        .await
        .expect(403);
}

#[tokio::test]
async fn only_its_uploader_attaches_an_upload_and_only_in_its_chat() {
    let r = room("attach-whose").await;
    let anns = uploaded(&r.ann.token, &r.chat, "a.txt", "text/plain", b"ann's file").await;
    // Another chat user of the same chat, and a member of the company.
    post_with(&r.bob.token, &r.chat, json!({ "attachment_ids": [anns] }))
        .await
        .expect(422);
    call("POST", &format!("/api/chats/{}/messages", r.chat))
        .api(&r.owner.token)
        .json(json!({ "attachment_ids": [anns] }))
        .send()
        .await
        .expect(422);
    // Another chat's upload.
    let elsewhere = chat(&r.owner, &r.company, None).await;
    let there = member(&r.owner, &elsewhere, "carl").await;
    let carls = uploaded(
        &there.token,
        &elsewhere,
        "c.txt",
        "text/plain",
        b"carl's file",
    )
    .await;
    let refused = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [carls] }))
        .await
        .expect(422);
    assert!(refused.field_errors("attachment_ids")[0].contains("not one of your uploads"));
    // Its uploader still can.
    post_with(
        &r.ann.token,
        &r.chat,
        json!({ "attachment_ids": [anns], "body": "mine" }),
    )
    .await
    .expect(201);
}

/// A JPEG with an APP1 Exif segment holding a GPS IFD (latitude ref "N"), right after SOI.
fn jpeg_with_gps(width: u32, height: u32) -> Vec<u8> {
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    }))
    .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut plain, 85,
    ))
    .unwrap();
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&[1, 0, 0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(&[1, 0, 1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0, 0, 0, 0, 0]);
    tiff.extend_from_slice(b"GPS 48.8584 N 2.2945 E");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = u16::try_from(app1.len() + 2).unwrap();
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

#[tokio::test]
async fn a_served_jpeg_has_no_exif_left() {
    let r = room("attach-exif").await;
    let jpeg = jpeg_with_gps(320, 240);
    assert!(contains(&jpeg, b"Exif") && contains(&jpeg, b"GPS"));
    let id = uploaded(&r.ann.token, &r.chat, "holiday.jpg", "image/jpeg", &jpeg).await;
    let posted = post_with(
        &r.ann.token,
        &r.chat,
        json!({ "attachment_ids": [id], "body": "look" }),
    )
    .await
    .expect(201);
    let attachment = &posted.data()["attachments"][0];
    let (headers, served) = download(attachment).await;
    assert!(served.starts_with(&[0xFF, 0xD8, 0xFF]), "still a JPEG");
    assert!(!contains(&served, b"Exif"), "no EXIF survives");
    assert!(!contains(&served, b"GPS"), "no GPS survives");
    assert_eq!(attachment["size"], served.len());
    assert_eq!(headers["content-type"], "image/jpeg");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_at_the_check() {
    let r = room("attach-bomb").await;
    // 30 million pixels of one grey: a few kilobytes that would decode to 120 MB of RGBA.
    let mut bomb = Vec::new();
    image::DynamicImage::new_luma8(6000, 5000)
        .write_with_encoder(image::codecs::png::PngEncoder::new(&mut bomb))
        .unwrap();
    assert!(bomb.len() < 1024 * 1024);
    let id = uploaded(&r.ann.token, &r.chat, "grey.png", "image/png", &bomb).await;
    let refused = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [id] }))
        .await
        .expect(422);
    assert!(refused.field_errors("attachment_ids")[0].contains("pixels"));
    assert!(objects(&format!("files/{}/", r.chat)).await.is_empty());
}

#[tokio::test]
async fn deleting_the_message_and_erasing_its_uploader_remove_the_objects() {
    let r = room("attach-gone").await;
    let first = uploaded(&r.ann.token, &r.chat, "one.pdf", "application/pdf", PDF).await;
    let message = post_with(&r.ann.token, &r.chat, json!({ "attachment_ids": [first] }))
        .await
        .expect(201)
        .data()
        .clone();
    let served = format!("files/{}/{first}", r.chat);
    assert_eq!(objects(&served).await, std::slice::from_ref(&served));
    assert!(
        objects(&format!("uploads/{}/{first}", r.chat))
            .await
            .is_empty(),
        "the upload went after its check"
    );
    call(
        "DELETE",
        &format!(
            "/api/chats/{}/messages/{}",
            r.chat,
            message["id"].as_str().unwrap()
        ),
    )
    .bearer(&r.ann.token)
    .send()
    .await
    .expect(200);
    assert!(
        eventually(30, || async { objects(&served).await.is_empty() }).await,
        "the deleted message's file is still in the bucket"
    );

    // Erasure: its file and its name go; the message stays.
    let second = uploaded(
        &r.ann.token,
        &r.chat,
        "ann-passport.pdf",
        "application/pdf",
        PDF,
    )
    .await;
    post_with(
        &r.ann.token,
        &r.chat,
        json!({ "attachment_ids": [second], "body": "here" }),
    )
    .await
    .expect(201);
    let pending = uploaded(
        &r.ann.token,
        &r.chat,
        "never-sent.pdf",
        "application/pdf",
        PDF,
    )
    .await;
    call("POST", &format!("/api/companies/{}/erase-data", r.company))
        .api(&r.owner.token)
        .json(json!({ "email": r.ann.email }))
        .send()
        .await
        .expect(200);
    let chat_files = format!("files/{}/", r.chat);
    let chat_uploads = format!("uploads/{}/{pending}", r.chat);
    assert!(
        eventually(30, || async {
            objects(&chat_files).await.is_empty() && objects(&chat_uploads).await.is_empty()
        })
        .await,
        "an erased chat user's files are still in the bucket"
    );
    let list = call("GET", &format!("/api/chats/{}/messages", r.chat))
        .api(&r.owner.token)
        .send()
        .await
        .expect(200);
    let text = list.data().to_string();
    assert!(text.contains("here"), "the message stays");
    assert!(!text.contains("ann-passport"), "its file's name goes");
}

/// A visitor who sends a file alone shows in the team's inbox as having sent something:
/// the row's preview counts the files (their names stay out of the chat item).
#[tokio::test]
async fn a_visitor_s_file_alone_shows_in_the_inbox_as_a_file() {
    let owner = operator("attach-inbox").await;
    let company_id = company(&owner, "Files Desk").await;
    let joined = front_door(&company_id, &unique_email("file-visitor"), "Fay Files").await;
    let token = joined.data()["token"].as_str().unwrap().to_owned();
    let chat = joined.data()["chat"]["id"].as_str().unwrap().to_owned();

    let id = uploaded(&token, &chat, "receipt.pdf", "application/pdf", PDF).await;
    post_with(&token, &chat, json!({ "attachment_ids": [id] }))
        .await
        .expect(201);
    let inbox = call("GET", "/api/inbox")
        .bearer(&owner.token)
        .query("company_id", &company_id)
        .send()
        .await
        .expect(200);
    let row = inbox
        .data()
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == chat.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("the conversation is in the inbox: {}", inbox.text));
    assert_eq!(row["last_message"]["preview"], "\u{1F4CE} 1 file", "{row}");
}
