//! Email through SES v2: the auth-code message, in text and HTML.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::error::ApiError;
use crate::validate::Email;

#[derive(Debug, Clone)]
pub struct Mailer {
    client: Client,
    from: String,
}

/// The parts of the auth-code email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCodeEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl AuthCodeEmail {
    pub fn new(chat_name: &str, code: u32, valid_minutes: i64) -> Self {
        // A chat name is user input: no line breaks in a header, escaped in HTML.
        let plain_name: String = chat_name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let html_name = escape_html(&plain_name);
        Self {
            subject: format!("Your code for {plain_name}: {code}"),
            text: format!(
                "Your code to join the chat \"{plain_name}\" is {code}.\n\n\
                 It works once and expires in {valid_minutes} minutes. \
                 If you did not ask for it, ignore this email.\n"
            ),
            html: format!(
                "<!doctype html><html><body style=\"font-family:sans-serif\">\
                 <p>Your code to join the chat <strong>{html_name}</strong> is</p>\
                 <p style=\"font-size:28px;letter-spacing:4px\"><strong>{code}</strong></p>\
                 <p>It works once and expires in {valid_minutes} minutes. \
                 If you did not ask for it, ignore this email.</p></body></html>"
            ),
        }
    }
}

fn escape_html(text: &str) -> String {
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

impl Mailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    pub async fn send(&self, to: &Email, email: &AuthCodeEmail) -> Result<(), ApiError> {
        let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
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
}
