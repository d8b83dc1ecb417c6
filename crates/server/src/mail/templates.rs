//! The emails Latchkey sends, as plain text and HTML.
//!
//! Each message is a pure function of its kind, its data and (for the link-bearing ones) the
//! link, so templates are tested without any mail transport. Everything that came from a
//! user (a name, an address) is HTML-escaped in the HTML part, and no subject carries user
//! input, so a name cannot inject headers or markup.

use serde::{Deserialize, Serialize};

/// Which email. The names are what the outbox stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ResetPassword,
    VerifyEmail,
    ConfirmEmailChange,
    PasswordChanged,
    EmailChanged,
    AccountExists,
    SignInBlocked,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::ResetPassword,
        Kind::VerifyEmail,
        Kind::ConfirmEmailChange,
        Kind::PasswordChanged,
        Kind::EmailChanged,
        Kind::AccountExists,
        Kind::SignInBlocked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ResetPassword => "reset_password",
            Kind::VerifyEmail => "verify_email",
            Kind::ConfirmEmailChange => "confirm_email_change",
            Kind::PasswordChanged => "password_changed",
            Kind::EmailChanged => "email_changed",
            Kind::AccountExists => "account_exists",
            Kind::SignInBlocked => "sign_in_blocked",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The page of the app the email's link opens (the token follows in the fragment).
    pub fn page(self) -> &'static str {
        match self {
            Kind::ResetPassword => "/reset-password",
            Kind::VerifyEmail => "/verify-email",
            Kind::ConfirmEmailChange => "/confirm-email",
            Kind::PasswordChanged | Kind::AccountExists => "/forgot-password",
            Kind::EmailChanged => "/forgot-password",
            Kind::SignInBlocked => "/unblock",
        }
    }

    /// Whether the link carries a one-time token.
    pub fn has_token(self) -> bool {
        matches!(
            self,
            Kind::ResetPassword
                | Kind::VerifyEmail
                | Kind::ConfirmEmailChange
                | Kind::SignInBlocked
        )
    }
}

/// A template's input, stored as JSON in the outbox. Never a token or a password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The account's new address (in the notice to the old one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
}

/// A rendered email.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `Debug` leaves out the bodies: they carry the link.
impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Renders `kind` for the app called `app`. `link` is the page to open (with the token in
/// its fragment, for the kinds that have one).
pub fn render(kind: Kind, data: &Data, app: &str, link: &str) -> Rendered {
    let greeting = match &data.name {
        Some(name) if !name.is_empty() => format!("Hello {name},"),
        _ => "Hello,".to_owned(),
    };
    let new_email = data.new_email.as_deref().unwrap_or("a new address");
    let (subject, lines, action): (String, Vec<String>, Option<&str>) = match kind {
        Kind::ResetPassword => (
            format!("Reset your {app} password"),
            vec![
                format!("Someone asked to reset the password of your {app} account."),
                "If it was you, choose a new password within the hour:".into(),
                "If it was not you, ignore this email: your password stays as it is.".into(),
            ],
            Some("Choose a new password"),
        ),
        Kind::VerifyEmail => (
            format!("Confirm your email address for {app}"),
            vec![
                format!("Please confirm that this address belongs to your {app} account:"),
                "The link works for 24 hours. If you did not create an account, ignore this email."
                    .into(),
            ],
            Some("Confirm my address"),
        ),
        Kind::ConfirmEmailChange => (
            format!("Confirm your new email address for {app}"),
            vec![
                format!("Someone asked to move a {app} account to this address."),
                "If it was you, confirm within 24 hours; the account changes address only then:"
                    .into(),
                "If it was not you, ignore this email: nothing changes.".into(),
            ],
            Some("Confirm the new address"),
        ),
        Kind::PasswordChanged => (
            format!("Your {app} password was changed"),
            vec![
                format!("The password of your {app} account was just changed."),
                "If it was you, there is nothing to do.".into(),
                "If it was not you, reset your password now and review your signed-in devices:"
                    .into(),
            ],
            Some("Reset my password"),
        ),
        Kind::EmailChanged => (
            format!("Your {app} account has a new email address"),
            vec![
                format!("Your {app} account now uses {new_email}; this address no longer signs in."),
                "If you did not ask for this, reset your password from the new address or contact support:"
                    .into(),
            ],
            Some("Reset my password"),
        ),
        Kind::AccountExists => (
            format!("You already have a {app} account"),
            vec![
                format!("Someone tried to create a {app} account with this address, which already has one."),
                "If it was you, sign in instead, or reset your password if you forgot it:".into(),
                "If it was not you, ignore this email: nothing was changed.".into(),
            ],
            Some("Reset my password"),
        ),
        Kind::SignInBlocked => (
            format!("Sign-in to your {app} account is blocked"),
            vec![
                format!(
                    "Someone tried to sign in to your {app} account with a wrong password 100 times in a row, so we blocked sign-in with a password."
                ),
                "To sign in again, unblock it (the link works once, for 24 hours); your password stays as it is:"
                    .into(),
                "If the attempts were not yours, someone may be guessing your password: reset it to a new one from the sign-in page instead, which also lifts the block."
                    .into(),
            ],
            Some("Unblock sign-in"),
        ),
    };
    let mut text = format!("{greeting}\n\n");
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\"><p>{}</p>",
        escape(&greeting)
    );
    for (i, line) in lines.iter().enumerate() {
        text.push_str(line);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(line)));
        // The link follows the line that introduces it (the second one).
        if i == 1 && action.is_some() {
            text.push_str(&format!("{link}\n\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(link),
                escape(action.unwrap_or_default())
            ));
        }
    }
    text.push_str(&format!("— {app}\n"));
    html.push_str(&format!("<p>— {}</p></body></html>", escape(app)));
    Rendered {
        subject,
        text,
        html,
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
fn escape(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://app.example.com/reset-password#token=abc";

    #[test]
    fn every_kind_renders_a_subject_text_and_html_with_its_link() {
        for kind in Kind::ALL {
            let r = render(kind, &Data::default(), "Acme", LINK);
            assert!(r.subject.contains("Acme"), "{kind:?}");
            assert!(r.text.contains(LINK), "{kind:?} text");
            assert!(r.html.contains(&escape(LINK)), "{kind:?} html");
            assert!(r.text.starts_with("Hello,"), "{kind:?}");
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn user_input_is_escaped_in_html_and_kept_out_of_subjects() {
        let data = Data {
            name: Some("<script>alert(1)</script>\r\nBcc: x@evil".into()),
            new_email: Some("\"new\"@example.com".into()),
        };
        let r = render(Kind::EmailChanged, &data, "Acme", LINK);
        assert!(!r.html.contains("<script>"));
        assert!(r.html.contains("&lt;script&gt;"));
        assert!(r.html.contains("&quot;new&quot;@example.com"));
        assert!(!r.subject.contains("evil"));
        assert!(
            r.text.contains("Hello <script>"),
            "text is not HTML: left as written"
        );
    }

    #[test]
    fn the_email_changed_notice_names_the_new_address() {
        let data = Data {
            name: None,
            new_email: Some("ann@new.example".into()),
        };
        let r = render(Kind::EmailChanged, &data, "Acme", LINK);
        assert!(r.text.contains("ann@new.example"));
    }

    #[test]
    fn debug_never_shows_the_bodies() {
        let r = render(Kind::ResetPassword, &Data::default(), "Acme", LINK);
        assert!(!format!("{r:?}").contains("token=abc"));
    }
}
