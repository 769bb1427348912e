//! Email through SES v2, in text and HTML: auth codes, unread messages, transcripts, and
//! the notice that a failing webhook was turned off.
//!
//! Every text that comes from users (chat names, sender names, messages) is escaped in
//! HTML and stripped of line breaks where it goes into a header.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};

use domain::chat_user::ChatUserRecord;
use domain::message::{Author, MessageRecord};
use domain::text::Email;

use crate::ServiceError;

#[derive(Debug, Clone)]
pub struct Mailer {
    client: sdk::Deferred<Client>,
    from: String,
}

/// One email: subject, both bodies, and extra headers (e.g. `List-Unsubscribe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
}

/// The auth-code email (its historical name).
pub type AuthCodeEmail = Letter;

/// A line of user text for a header or a subject: no control characters.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_page(inner: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.4\">{inner}</body></html>"
    )
}

/// One line of a conversation, as emails show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLine {
    pub sender: String,
    pub at: String,
    pub body: String,
}

fn conversation(lines: &[MessageLine]) -> (String, String) {
    let mut text = String::new();
    let mut html = String::new();
    for line in lines {
        let at = readable(&line.at);
        text.push_str(&format!(
            "{} ({at}):\n{}\n\n",
            plain(&line.sender),
            line.body
        ));
        html.push_str(&format!(
            "<p><strong>{}</strong> <span style=\"color:#666\">{}</span><br>{}</p>",
            escape_html(&line.sender),
            escape_html(&at),
            escape_html(&line.body).replace('\n', "<br>")
        ));
    }
    (text, html)
}

/// A message's time as people read it, e.g. `Thu 26 Nov 2026, 08:22 UTC` (the stored
/// RFC 3339 text when it does not parse). UTC, named: an email does not know the reader's
/// time zone.
fn readable(at: &str) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Some(millis) = domain::clock::parse_rfc3339(at) else {
        return at.to_owned();
    };
    let days = millis.div_euclid(86_400_000);
    let minutes = millis.rem_euclid(86_400_000) / 60_000;
    // Days since 1970-01-01 (a Thursday) to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {day} {} {year}, {:02}:{:02} UTC",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        minutes / 60,
        minutes % 60
    )
}

/// The lines of `messages` (in their order) as a chat user may read them: never a note;
/// guests by their names, a member by its name as the company's (`team`: the company's
/// name).
pub fn message_lines(
    messages: &[MessageRecord],
    chat_users: &[ChatUserRecord],
    team: &str,
) -> Vec<MessageLine> {
    messages
        .iter()
        .filter(|message| !message.internal)
        .map(|message| MessageLine {
            sender: match &message.author {
                Some(Author::Staff { name, .. }) => format!("{name} ({})", plain(team)),
                _ => chat_users
                    .iter()
                    .find(|c| Some(c.id) == message.chat_user_id)
                    .map_or_else(|| "Someone who left".to_owned(), |c| c.name.clone()),
            },
            at: message.created_at.clone(),
            body: message.body.clone(),
        })
        .collect()
}

impl Letter {
    pub fn new(chat_name: &str, code: u32, valid_minutes: i64) -> Self {
        Self::auth_code(chat_name, code, valid_minutes)
    }

    pub fn auth_code(chat_name: &str, code: u32, valid_minutes: i64) -> Self {
        let plain_name = plain(chat_name);
        let html_name = escape_html(&plain_name);
        Self {
            subject: format!("Your code for {plain_name}: {code}"),
            text: format!(
                "Your code to join the chat \"{plain_name}\" is {code}.\n\n\
                 It works once and expires in {valid_minutes} minutes. \
                 If you did not ask for it, ignore this email.\n"
            ),
            html: html_page(&format!(
                "<p>Your code to join the chat <strong>{html_name}</strong> is</p>\
                 <p style=\"font-size:28px;letter-spacing:4px\"><strong>{code}</strong></p>\
                 <p>It works once and expires in {valid_minutes} minutes. \
                 If you did not ask for it, ignore this email.</p>"
            )),
            headers: Vec::new(),
        }
    }

    /// Unread messages, oldest first, with a link back to the chat (when the company
    /// has a widget page) and the one-click unsubscribe of RFC 8058.
    pub fn unread_messages(
        chat_name: &str,
        lines: &[MessageLine],
        chat_link: Option<&str>,
        unsubscribe_url: &str,
    ) -> Self {
        let name = plain(chat_name);
        let count = lines.len();
        let noun = if count == 1 { "message" } else { "messages" };
        let (text_lines, html_lines) = conversation(lines);
        let (link_text, link_html) = match chat_link {
            Some(link) => (
                format!("Reply in the chat: {link}\n\n"),
                format!(
                    "<p><a href=\"{}\">Reply in the chat</a></p>",
                    escape_html(link)
                ),
            ),
            None => (String::new(), String::new()),
        };
        Self {
            subject: format!("{count} unread {noun} in {name}"),
            text: format!(
                "You have {count} unread {noun} in \"{name}\":\n\n{text_lines}{link_text}\
                 Stop these emails for this chat: {unsubscribe_url}\n"
            ),
            html: html_page(&format!(
                "<p>You have {count} unread {noun} in <strong>{}</strong>:</p>{html_lines}{link_html}\
                 <p style=\"color:#666;font-size:12px\"><a href=\"{}\">Stop these emails for this chat</a></p>",
                escape_html(&name),
                escape_html(unsubscribe_url)
            )),
            headers: vec![
                ("List-Unsubscribe".into(), format!("<{unsubscribe_url}>")),
                (
                    "List-Unsubscribe-Post".into(),
                    "List-Unsubscribe=One-Click".into(),
                ),
            ],
        }
    }

    /// The whole conversation, as the chat user asked.
    pub fn transcript(chat_name: &str, lines: &[MessageLine]) -> Self {
        let name = plain(chat_name);
        let (text_lines, html_lines) = conversation(lines);
        Self {
            subject: format!("Transcript of {name}"),
            text: format!(
                "The conversation in \"{name}\" ({} messages):\n\n{text_lines}",
                lines.len()
            ),
            html: html_page(&format!(
                "<p>The conversation in <strong>{}</strong> ({} messages):</p>{html_lines}",
                escape_html(&name),
                lines.len()
            )),
            headers: Vec::new(),
        }
    }

    /// An invitation to a company's team: the code in the text (it is the whole proof),
    /// and the accept page's link with the code when the deployment has one.
    pub fn invitation(
        company_name: &str,
        inviter_name: &str,
        role: &str,
        code: &str,
        link: Option<&str>,
    ) -> Self {
        let company = plain(company_name);
        let inviter = plain(inviter_name);
        let text_link = link.map_or_else(String::new, |link| format!("Accept it here: {link}\n\n"));
        let html_link = link.map_or_else(String::new, |link| {
            format!(
                "<p><a href=\"{}\">Accept the invitation</a></p>",
                escape_html(link)
            )
        });
        Self {
            subject: format!("{inviter} invited you to {company}'s team"),
            text: format!(
                "{inviter} invited you to join {company}'s team as {role}.\n\n\
                 Your invitation code: {code}\n\n{text_link}\
                 It works once, for this email address, within 7 days. \
                 If you did not expect it, ignore this email.\n"
            ),
            html: html_page(&format!(
                "<p>{} invited you to join <strong>{}</strong>'s team as {role}.</p>\
                 <p>Your invitation code: <code>{code}</code></p>{html_link}\
                 <p>It works once, for this email address, within 7 days. \
                 If you did not expect it, ignore this email.</p>",
                escape_html(&inviter),
                escape_html(&company)
            )),
            headers: Vec::new(),
        }
    }

    /// To a company's owner: its endpoint kept failing and is off now.
    pub fn webhook_disabled(url: &str, failing_hours: u64, last_error: &str) -> Self {
        let url = plain(url);
        Self {
            subject: "A webhook was disabled after failing for a day".into(),
            text: format!(
                "Deliveries to {url} failed for {failing_hours} hours in a row, so the endpoint \
                 was disabled. Last error: {}\n\nFix the receiver, then enable the webhook again \
                 (PUT with enabled: true) and retry the failed deliveries from its delivery log.\n",
                plain(last_error)
            ),
            html: html_page(&format!(
                "<p>Deliveries to <code>{}</code> failed for {failing_hours} hours in a row, so the \
                 endpoint was disabled. Last error: {}</p><p>Fix the receiver, then enable the \
                 webhook again (<code>PUT</code> with <code>enabled: true</code>) and retry the \
                 failed deliveries from its delivery log.</p>",
                escape_html(&url),
                escape_html(last_error)
            )),
            headers: Vec::new(),
        }
    }
}

impl Mailer {
    /// Sending through SES with the instance's AWS configuration (the client built at the
    /// first email).
    pub fn from_config(aws: &aws_config::SdkConfig, from: impl Into<String>) -> Self {
        Self::new(sdk::Deferred::new(aws, Client::new), from)
    }

    pub fn new(client: impl Into<sdk::Deferred<Client>>, from: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            from: from.into(),
        }
    }

    pub async fn send(&self, to: &Email, letter: &Letter) -> Result<(), ServiceError> {
        let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
        let mut message = Message::builder().subject(content(&letter.subject)?).body(
            Body::builder()
                .text(content(&letter.text)?)
                .html(content(&letter.html)?)
                .build(),
        );
        for (name, value) in &letter.headers {
            message = message.headers(MessageHeader::builder().name(name).value(value).build()?);
        }
        self.client
            .get()
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message.build()).build())
            .send()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_chat_and_carries_the_code_safely() {
        let email = AuthCodeEmail::new("Support <b>&</b>\nBcc: x", 123456, 10);
        assert!(!email.subject.contains('\n'));
        assert!(email.subject.contains("123456"));
        assert!(email.text.contains("123456") && email.html.contains("123456"));
        assert!(email.html.contains("Support &lt;b&gt;&amp;&lt;/b&gt;"));
        assert!(email.text.contains("10 minutes"));
    }

    #[test]
    fn times_read_as_people_write_them() {
        assert_eq!(
            readable("2026-11-26T00:00:00.000Z"),
            "Thu 26 Nov 2026, 00:00 UTC"
        );
        assert_eq!(
            readable("2024-02-29T23:59:59.999Z"),
            "Thu 29 Feb 2024, 23:59 UTC"
        );
        assert_eq!(
            readable("1970-01-01T08:05:00.000Z"),
            "Thu 1 Jan 1970, 08:05 UTC"
        );
        assert_eq!(
            readable("2027-01-03T12:30:00.000Z"),
            "Sun 3 Jan 2027, 12:30 UTC"
        );
        assert_eq!(readable("not a time"), "not a time");
    }

    #[test]
    fn unread_messages_escape_and_offer_one_click_unsubscribe() {
        let lines = [MessageLine {
            sender: "Eve <script>".into(),
            at: "2026-11-26T00:00:00.000Z".into(),
            body: "<img src=x onerror=alert(1)>".into(),
        }];
        let letter = Letter::unread_messages(
            "Help\r\nBcc: x",
            &lines,
            Some("https://a.example/?chat_id=1&x=2"),
            "https://api.example/u?token=t",
        );
        assert_eq!(letter.subject, "1 unread message in Help  Bcc: x");
        assert!(!letter.html.contains("<img") && letter.html.contains("&lt;img"));
        assert!(letter.html.contains("chat_id=1&amp;x=2"));
        assert!(letter.text.contains("<img src=x onerror=alert(1)>"));
        assert!(
            letter.text.contains("(Thu 26 Nov 2026, 00:00 UTC)"),
            "{}",
            letter.text
        );
        assert!(!letter.html.contains("2026-11-26T"));
        assert_eq!(
            letter.headers[0],
            (
                "List-Unsubscribe".into(),
                "<https://api.example/u?token=t>".into()
            )
        );
        assert_eq!(letter.headers[1].1, "List-Unsubscribe=One-Click");
    }
}
