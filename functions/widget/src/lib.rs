//! `widget`: the embeddable chat widget and a page that embeds it.
//!
//! - `GET /widget.js`: the bundle built from `widget/src` (committed as
//!   `widget/dist/widget.js`, with its gzip beside it: `sam build` only runs cargo, so the
//!   bundle is compiled into this binary). A strong `ETag` per encoding answers
//!   `If-None-Match` with 304. The bare URL is cached for minutes (a new deploy reaches
//!   every site soon); `?v=<version>` with the current version is cached for a year as
//!   immutable (a new bundle has a new version, hence a new URL).
//! - `GET /widget/demo/{chat_id}`: an HTML page standing in for a company's site, with
//!   the widget embedded for that chat, under a strict Content-Security-Policy (no
//!   inline script, no `eval`), so the page also shows the bundle runs under one.
//! - `GET /widget/company-demo/{company_id}`: the same in company mode (`data-company-id`):
//!   each visitor (`?visitor=1..9`, each with its own sign-in) gets its own conversation.
//! - `GET /console`: the operators' console, one static page under a strict CSP (no inline
//!   script or style, no `eval`), and `GET /console.js`, its bundle built from
//!   `widget/src/console` on the widget's shared core (`widget/build-console.mjs`), served
//!   like `/widget.js` (ETag per encoding, `?v=` immutable).
//!
//! No AWS client: the answers are static. One setting, `FILES_ORIGIN`: where attachments
//! go up and come down (the bucket's host), which the pages' CSP allows.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use domain::ids::{ChatId, CompanyId};
use edge::cors::Cors;
use edge::{ApiError, ApiRequest, FieldErrors};
use lambda_http::http::{HeaderMap, HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use routes::{Endpoint, ROUTES};
use sha2::{Digest, Sha256};

pub mod routes;

/// The bundle, as `widget/build.mjs` writes it (make test checks it is the build of
/// `widget/src`).
pub const SCRIPT: &str = include_str!("../../../widget/dist/widget.js");
/// The same bytes, gzipped (make test checks it unzips to [`SCRIPT`]).
pub const SCRIPT_GZIP: &[u8] = include_bytes!("../../../widget/dist/widget.js.gz");

/// The console's bundle, as `widget/build-console.mjs` writes it (make test checks it).
pub const CONSOLE_SCRIPT: &str = include_str!("../../../widget/dist/console.js");
/// The same bytes, gzipped.
pub const CONSOLE_SCRIPT_GZIP: &[u8] = include_bytes!("../../../widget/dist/console.js.gz");

/// The versioned URL is cached this long (a year), as immutable.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The bare URL: five minutes, then revalidated with the ETag.
pub const SHORT: &str = "public, max-age=300";

struct Bundle {
    /// The first 16 hex digits of the script's SHA-256.
    version: String,
    etag: HeaderValue,
    etag_gzip: HeaderValue,
    text: &'static str,
    gzip: &'static [u8],
}

impl Bundle {
    fn of(text: &'static str, gzip: &'static [u8]) -> Self {
        let digest = Sha256::digest(text.as_bytes());
        let version: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        // Hex digits and quotes only: always a valid header value.
        let etag = HeaderValue::from_str(&format!("\"{version}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"bundle\""));
        let etag_gzip = HeaderValue::from_str(&format!("\"{version}-gzip\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"bundle-gzip\""));
        Bundle {
            version,
            etag,
            etag_gzip,
            text,
            gzip,
        }
    }
}

static BUNDLE: LazyLock<Bundle> = LazyLock::new(|| Bundle::of(SCRIPT, SCRIPT_GZIP));
static CONSOLE_BUNDLE: LazyLock<Bundle> =
    LazyLock::new(|| Bundle::of(CONSOLE_SCRIPT, CONSOLE_SCRIPT_GZIP));

/// The bundle's version: `/widget.js?v=<this>` is the immutable URL.
pub fn version() -> &'static str {
    &BUNDLE.version
}

/// The console bundle's version: `/console.js?v=<this>` is the immutable URL.
pub fn console_version() -> &'static str {
    &CONSOLE_BUNDLE.version
}

/// What the request's headers say about the answer it can take.
#[derive(Debug, Default, Clone)]
struct Negotiation {
    if_none_match: Option<String>,
    accepts_gzip: bool,
}

impl Negotiation {
    fn of(headers: &HeaderMap) -> Self {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        Self {
            if_none_match: text(header::IF_NONE_MATCH).map(str::to_owned),
            accepts_gzip: text(header::ACCEPT_ENCODING).is_some_and(accepts_gzip),
        }
    }
}

/// Whether an `Accept-Encoding` value allows gzip (`gzip` or `*`, without `q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
    })
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for it).
fn matches(if_none_match: &str, etag: &HeaderValue) -> bool {
    let etag = etag.to_str().unwrap_or("");
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

pub async fn handle(request: Request) -> Response<Body> {
    let negotiation = Negotiation::of(request.headers());
    edge::runtime::respond(request, &ROUTES, Cors::Anyone, |endpoint, req| async move {
        dispatch(endpoint, &req, &negotiation)
    })
    .await
}

fn dispatch(
    endpoint: Endpoint,
    req: &ApiRequest,
    negotiation: &Negotiation,
) -> Result<Response<Body>, ApiError> {
    match endpoint {
        Endpoint::Script => Ok(script(&BUNDLE, req.query("v"), negotiation)),
        Endpoint::ConsoleScript => Ok(script(&CONSOLE_BUNDLE, req.query("v"), negotiation)),
        Endpoint::Console => Ok(console_page()),
        Endpoint::Demo(chat) => Ok(demo(chat, one_to_nine(req.query("guest"), "guest")?)),
        Endpoint::CompanyDemo(company) => Ok(company_demo(
            company,
            one_to_nine(req.query("visitor"), "visitor")?,
        )),
    }
}

/// A page's `?guest=` / `?visitor=`: 1 when absent, else a number from 1 to 9.
fn one_to_nine(raw: Option<&str>, field: &'static str) -> Result<u8, ApiError> {
    match raw {
        None => Ok(1),
        Some(raw) => raw
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=9).contains(n))
            .ok_or_else(|| {
                FieldErrors::single(
                    field,
                    format!("The {field} field must be a number from 1 to 9."),
                )
            }),
    }
}

fn script(
    bundle: &Bundle,
    requested_version: Option<&str>,
    negotiation: &Negotiation,
) -> Response<Body> {
    // Only the current version is immutable: an old `?v=` gets today's bundle, briefly.
    let cache = if requested_version == Some(bundle.version.as_str()) {
        IMMUTABLE
    } else {
        SHORT
    };
    let gzip = negotiation.accepts_gzip;
    let etag = if gzip {
        &bundle.etag_gzip
    } else {
        &bundle.etag
    };
    let not_modified = negotiation
        .if_none_match
        .as_deref()
        .is_some_and(|inm| matches(inm, etag));
    let (status, body) = match (not_modified, gzip) {
        (true, _) => (StatusCode::NOT_MODIFIED, Body::Empty),
        (false, true) => (StatusCode::OK, Body::Binary(bundle.gzip.to_vec())),
        (false, false) => (StatusCode::OK, Body::Text(bundle.text.to_owned())),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if status == StatusCode::OK {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        );
        if gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Any site may embed it, including one that isolates itself (COEP).
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
    }
    response
}

/// The demo page's own stylesheet; the CSP allows it by its hash.
const DEMO_STYLE: &str = "body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1f2937;background:#f3f4f6}\
main{max-width:40rem;margin:0 auto;padding:2rem 1.5rem 8rem}\
@media (min-width:60rem){main{margin-left:2rem}}\
h1{font-size:1.6rem;margin:0 0 1rem}\
pre{background:#fff;border:1px solid #d1d5db;border-radius:6px;padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere}\
a{color:#1d4ed8}";

static DEMO_STYLE_HASH: LazyLock<String> =
    LazyLock::new(|| STANDARD.encode(Sha256::digest(DEMO_STYLE.as_bytes())));

/// The page, for a chat id that is a typed [`ChatId`] (a ULID: Crockford base-32
/// only) and a guest number in 1..=9: nothing from the request reaches the HTML as text.
fn demo(chat: ChatId, guest: u8) -> Response<Body> {
    let version = version();
    let other = if guest == 1 { 2 } else { 1 };
    demo_page(
        "Chat widget demo",
        &format!(
            r#"<p>This page stands in for a company's website. The chat in the corner is the widget, embedded with one tag:</p>
<pre><code>&lt;script src="/widget.js" data-chat-id="{chat}" async&gt;&lt;/script&gt;</code></pre>
<p>You are guest {guest} of this browser. To talk with yourself, open <a href="/widget/demo/{chat}?guest={other}">this page as guest {other}</a> in another window: each guest number keeps its own sign-in here.</p>"#
        ),
        &format!(
            r#"<script src="/widget.js?v={version}" data-chat-id="{chat}" data-storage-key="demo-{chat}-guest-{guest}" data-open="true" async></script>"#
        ),
    )
}

/// The company-mode page, for a typed [`CompanyId`] and a visitor number in 1..=9: nothing
/// from the request reaches the HTML as text.
fn company_demo(company: CompanyId, visitor: u8) -> Response<Body> {
    let version = version();
    let other = if visitor == 1 { 2 } else { 1 };
    demo_page(
        "Chat widget demo: company mode",
        &format!(
            r#"<p>This page stands in for a company's website. The chat in the corner is the widget in company mode, embedded with one tag:</p>
<pre><code>&lt;script src="/widget.js" data-company-id="{company}" async&gt;&lt;/script&gt;</code></pre>
<p>Each visitor gets a conversation of its own with the company's team, and sees no other visitor. You are visitor {visitor} of this browser; open <a href="/widget/company-demo/{company}?visitor={other}">this page as visitor {other}</a> in another window to be a second visitor, and answer both from the API as a member of the company (<code>make dev</code> prints how).</p>"#
        ),
        &format!(
            r#"<script src="/widget.js?v={version}" data-company-id="{company}" data-storage-key="demo-company-{company}-visitor-{visitor}" data-open="true" async></script>"#
        ),
    )
}

/// A demo page: a heading of `title`, the `main` text and the widget's `script` tag, in
/// the demo stylesheet. Every argument is built by this module from typed values.
fn demo_page(title: &str, main: &str, script: &str) -> Response<Body> {
    page(format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>{DEMO_STYLE}</style>
</head>
<body>
<main>
<h1>{title}</h1>
{main}
</main>
{script}
</body>
</html>
"#
    ))
}

/// The console's page: an empty shell for its script. The script adopts its stylesheet
/// (constructed, so no `style-src` is needed) and builds everything with DOM calls.
fn console_page() -> Response<Body> {
    let version = console_version();
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Console</title>
<link rel="icon" href="data:,">
</head>
<body>
<div id="console"><noscript>The console needs JavaScript.</noscript></div>
<script src="/console.js?v={version}" defer></script>
</body>
</html>
"#
    );
    page_with(html, "style-src 'none'".to_owned())
}

/// A demo page's answer: the HTML under a strict Content-Security-Policy.
fn page(html: String) -> Response<Body> {
    page_with(html, format!("style-src 'sha256-{}'", *DEMO_STYLE_HASH))
}

/// The files' origin from `FILES_ORIGIN`, when it is one (scheme, host and port only: a
/// value that could widen the policy in other ways is left out, and uploads then fail
/// visibly instead).
static FILES_ORIGIN: LazyLock<Option<String>> =
    LazyLock::new(|| std::env::var("FILES_ORIGIN").ok().and_then(|v| origin(&v)));

fn origin(value: &str) -> Option<String> {
    let url = url::Url::parse(value).ok()?;
    matches!(url.scheme(), "https" | "http").then_some(())?;
    match url.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

fn page_with(html: String, style_src: String) -> Response<Body> {
    page_csp(html, style_src, FILES_ORIGIN.as_deref())
}

fn page_csp(html: String, style_src: String, files: Option<&str>) -> Response<Body> {
    // Uploads are POSTed to the files' origin and their links (images) load from it.
    let files = files.map(|origin| format!(" {origin}")).unwrap_or_default();
    let csp = format!(
        "default-src 'none'; script-src 'self'; {style_src}; connect-src 'self' ws: wss:{files}; \
         img-src 'self' data:{files}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    let mut response = Response::new(Body::Text(html));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_origin_is_allowed_to_upload_and_show_images_and_nothing_else() {
        assert_eq!(
            origin("https://files.s3.eu-west-1.amazonaws.com").as_deref(),
            Some("https://files.s3.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:5000/").as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(origin("https://a.example; script-src *"), None);
        assert_eq!(origin("javascript:alert(1)"), None);
        let page = page_csp(
            String::new(),
            "style-src 'none'".into(),
            Some("https://f.example"),
        );
        let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("connect-src 'self' ws: wss: https://f.example;"),
            "{csp}"
        );
        assert!(
            csp.contains("img-src 'self' data: https://f.example;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self';"), "{csp}");
        let bare = page_csp(String::new(), "style-src 'none'".into(), None);
        let csp = bare.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(csp.contains("connect-src 'self' ws: wss:;"), "{csp}");
    }

    #[test]
    fn every_route_fits_and_builds_its_endpoint() {
        assert_eq!(ROUTES.check(), Ok(()));
        assert_eq!(ROUTES.check_builds(), Ok(()));
    }

    use lambda_http::http::Method;

    /// A GET as API Gateway hands it over: the query also parsed into the event's map.
    fn get(uri: &str, headers: &[(&'static str, &str)]) -> Request {
        use lambda_http::RequestExt;
        let query: std::collections::HashMap<String, String> = uri
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let mut request = Request::new(Body::Empty).with_query_string_parameters(query);
        *request.method_mut() = Method::GET;
        *request.uri_mut() = uri.parse().unwrap();
        for (name, value) in headers {
            request
                .headers_mut()
                .insert(*name, HeaderValue::from_str(value).unwrap());
        }
        request
    }

    fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn the_script_has_a_strong_etag_and_answers_304_to_it() {
        let first = handle(get("/widget.js", &[])).await;
        assert_eq!(first.status(), 200);
        assert_eq!(
            header(&first, "content-type"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(header(&first, "x-content-type-options"), "nosniff");
        assert_eq!(header(&first, "cache-control"), SHORT);
        assert_eq!(first.body().as_ref(), SCRIPT.as_bytes());
        let etag = header(&first, "etag").to_owned();
        assert_eq!(etag, format!("\"{}\"", version()));
        assert!(!etag.starts_with("W/"), "a strong ETag");

        let again = handle(get("/widget.js", &[("if-none-match", &etag)])).await;
        assert_eq!(again.status(), 304);
        assert!(again.body().is_empty());
        assert_eq!(header(&again, "etag"), etag);
        let other = handle(get(
            "/widget.js",
            &[("if-none-match", "\"old\", W/\"older\"")],
        ))
        .await;
        assert_eq!(other.status(), 200);
    }

    #[tokio::test]
    async fn the_current_version_is_immutable_and_an_old_one_is_not() {
        let current = handle(get(&format!("/widget.js?v={}", version()), &[])).await;
        assert_eq!(header(&current, "cache-control"), IMMUTABLE);
        let old = handle(get("/widget.js?v=0123456789abcdef", &[])).await;
        assert_eq!(old.status(), 200);
        assert_eq!(header(&old, "cache-control"), SHORT);
    }

    #[tokio::test]
    async fn gzip_is_served_to_who_takes_it_with_its_own_etag() {
        let gz = handle(get("/widget.js", &[("accept-encoding", "br, gzip;q=0.8")])).await;
        assert_eq!(gz.status(), 200);
        assert_eq!(header(&gz, "content-encoding"), "gzip");
        assert_eq!(header(&gz, "vary"), "accept-encoding");
        assert_eq!(gz.body().as_ref(), SCRIPT_GZIP);
        let etag = header(&gz, "etag").to_owned();
        assert_ne!(etag, format!("\"{}\"", version()));
        let not = handle(get("/widget.js", &[("accept-encoding", "gzip;q=0")])).await;
        assert_eq!(header(&not, "content-encoding"), "");
        let revalidated = handle(get(
            "/widget.js",
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        ))
        .await;
        assert_eq!(revalidated.status(), 304);
    }

    #[test]
    fn accept_encoding_and_if_none_match_are_read_as_lists() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, GZIP ;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0, br"));
        assert!(!accepts_gzip("identity"));
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(matches("\"x\", \"abc\"", &etag));
        assert!(matches("W/\"abc\"", &etag));
        assert!(matches("*", &etag));
        assert!(!matches("\"abcd\"", &etag));
    }

    #[tokio::test]
    async fn the_demo_page_embeds_the_versioned_script_for_a_typed_chat_id() {
        let chat = ChatId::new();
        let page = handle(get(&format!("/widget/demo/{chat}?guest=2"), &[])).await;
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        let csp = header(&page, "content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = std::str::from_utf8(page.body().as_ref()).unwrap();
        assert!(html.contains(&format!(
            "<script src=\"/widget.js?v={}\" data-chat-id=\"{chat}\"",
            version()
        )));
        assert!(html.contains("guest-2\""));
        assert!(html.contains("?guest=1\""));
    }

    #[tokio::test]
    async fn the_company_demo_page_embeds_the_widget_in_company_mode() {
        let company = CompanyId::new();
        let page = handle(get(
            &format!("/widget/company-demo/{company}?visitor=2"),
            &[],
        ))
        .await;
        assert_eq!(page.status(), 200);
        let csp = header(&page, "content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        let html = std::str::from_utf8(page.body().as_ref()).unwrap();
        assert!(html.contains(&format!(
            "<script src=\"/widget.js?v={}\" data-company-id=\"{company}\"",
            version()
        )));
        assert!(html.contains("visitor-2\""));
        assert!(html.contains("?visitor=1\""));
        let bad = handle(get(
            &format!("/widget/company-demo/{company}?visitor=0"),
            &[],
        ))
        .await;
        assert_eq!(bad.status(), 422);
        let bad_id = handle(get("/widget/company-demo/%3Cb%3E", &[])).await;
        assert_eq!(bad_id.status(), 404);
    }

    #[tokio::test]
    async fn the_console_page_loads_its_versioned_script_under_a_strict_csp() {
        let page = handle(get("/console", &[])).await;
        assert_eq!(page.status(), 200);
        assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
        let csp = header(&page, "content-security-policy");
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("style-src 'none';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = std::str::from_utf8(page.body().as_ref()).unwrap();
        assert!(html.contains(&format!(
            "<script src=\"/console.js?v={}\" defer>",
            console_version()
        )));
        let script = handle(get(&format!("/console.js?v={}", console_version()), &[])).await;
        assert_eq!(script.status(), 200);
        assert_eq!(header(&script, "cache-control"), IMMUTABLE);
        assert_eq!(script.body().as_ref(), CONSOLE_SCRIPT.as_bytes());
        let etag = header(&script, "etag").to_owned();
        assert_eq!(etag, format!("\"{}\"", console_version()));
        assert_ne!(console_version(), version());
        let again = handle(get("/console.js", &[("if-none-match", &etag)])).await;
        assert_eq!(again.status(), 304);
        let gz = handle(get("/console.js", &[("accept-encoding", "gzip")])).await;
        assert_eq!(gz.body().as_ref(), CONSOLE_SCRIPT_GZIP);
    }

    #[tokio::test]
    async fn bad_demo_input_is_a_json_error_and_never_html() {
        let bad_id = handle(get("/widget/demo/%3Cimg%20src=x%3E", &[])).await;
        assert_eq!(bad_id.status(), 404);
        assert_eq!(header(&bad_id, "content-type"), "application/json");
        let chat = ChatId::new();
        let bad_guest = handle(get(&format!("/widget/demo/{chat}?guest=%3Cb%3E"), &[])).await;
        assert_eq!(bad_guest.status(), 422);
        let body = String::from_utf8(bad_guest.body().to_vec()).unwrap();
        assert!(!body.contains("<b>"), "{body}");
        let post = {
            let mut request = get("/widget.js", &[]);
            *request.method_mut() = Method::POST;
            handle(request).await
        };
        assert_eq!(post.status(), 405);
        assert_eq!(header(&post, "allow"), "GET");
    }
}
