//! The emails Latchkey sends: which ones there are, what each is given, and rendering them
//! from templates an operator may replace.
//!
//! Templates are Jinja (minijinja): per locale a subject (`<kind>.subject.txt`), a text part
//! (`<kind>.txt`) and an HTML part (`<kind>.html`, which extends `layout.html`). The built-in
//! ones are compiled in ([`super::builtin`]); `LATCHKEY_TEMPLATES_DIR` replaces any of them
//! file by file ([`super::overrides`], which also refuses a broken one at start).
//!
//! What keeps user input harmless whoever wrote the template: the HTML part is auto-escaped
//! (by its `.html` name), so a name cannot add markup; a subject is one line, its control
//! characters turned to spaces, so nothing in it can start a header; a link is built by the
//! server and handed in whole; an undefined name is an error, never a silent blank.

use std::path::Path;

use minijinja::value::Value;
use minijinja::{
    AutoEscape, Environment, Output, State, UndefinedBehavior, context, escape_formatter,
};
use serde::{Deserialize, Serialize};

use super::locale::{LOCALES, Locale};
use super::{builtin, overrides};

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
///
/// The locale is decided when the message is queued (from the recipient's account) and
/// kept with it, so a message rendered after a restart, or by another instance, is in the
/// language it was queued in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Data {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The account's new address (in the notice to the old one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    /// Absent in messages queued before locales existed: the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
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

/// The three parts of an email, as template file suffixes.
pub const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

/// The layout every HTML part extends.
pub const LAYOUT: &str = "layout.html";

/// The template's name (its path under the templates folder) for one part of one kind.
pub fn name(locale: Locale, kind: Kind, part: &str) -> String {
    format!("{}/{}.{part}", locale.as_str(), kind.as_str())
}

/// Every template name there is: the layout, then each locale's parts of each kind.
pub fn all_names() -> Vec<String> {
    let mut names = vec![LAYOUT.to_owned()];
    for locale in LOCALES {
        let locale = Locale::or_default(Some(locale));
        for kind in Kind::ALL {
            names.extend(PARTS.iter().map(|part| name(locale, kind, part)));
        }
    }
    names
}

/// The templates in use: the built-in ones with the operator's overrides in place, and the
/// built-in ones alone to fall back on should an override fail on a message's real data
/// (the start's check renders every template, but only with sample data).
pub struct Templates {
    env: Environment<'static>,
    builtin: Environment<'static>,
}

impl Templates {
    /// The built-in templates with the files in `dir` in place of theirs, each parsed and
    /// rendered once with sample data: an error names the file and what is wrong with it.
    pub fn load(dir: Option<&Path>, app: &str) -> anyhow::Result<Templates> {
        let builtin = environment(app, &[])?;
        let overrides = match dir {
            Some(dir) => overrides::read(dir)?,
            None => Vec::new(),
        };
        let env = environment(app, &overrides)?;
        overrides::check(&env, &overrides)?;
        if !overrides.is_empty() {
            tracing::info!(
                dir = %dir.map(Path::display).map(|d| d.to_string()).unwrap_or_default(),
                files = overrides.len(),
                "email templates: the operator's files replace the built-in ones"
            );
        }
        Ok(Templates { env, builtin })
    }

    /// Renders `kind` in `data`'s locale (the default if it has none). `link` is the page
    /// to open, with the token in its fragment for the kinds that have one.
    pub fn render(&self, kind: Kind, data: &Data, link: &str) -> Result<Rendered, String> {
        let locale = Locale::or_default(data.locale.as_deref());
        let context = context(kind, locale, data, link);
        match render_with(&self.env, kind, locale, &context) {
            Ok(rendered) => Ok(rendered),
            Err(err) => {
                tracing::error!(kind = kind.as_str(), locale = locale.as_str(), error = %overrides::describe(&err), "email template failed; the built-in one is used instead");
                render_with(&self.builtin, kind, locale, &context).map_err(|err| err.to_string())
            }
        }
    }
}

/// An environment holding every built-in template, each replaced by its override if any.
fn environment(
    app: &str,
    overrides: &[overrides::Override],
) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    // A misspelt variable is an error (found by the start's check), not an empty string.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_global("app", app.to_owned());
    env.set_formatter(html_formatter);
    for (name, source) in builtin::FILES {
        let source = overrides
            .iter()
            .find(|o| o.name == *name)
            .map_or(*source, |o| o.source.as_str());
        env.add_template_owned(name.to_string(), source.to_owned())
            .map_err(|err| overrides::refusal(overrides, name, &err))?;
    }
    Ok(env)
}

/// What a template of `kind` is given: `app` (a global), `locale`, `name` (none when the
/// greeting must not carry one), `link`, and for `email_changed` `new_email`.
pub fn context(kind: Kind, locale: Locale, data: &Data, link: &str) -> Value {
    let name = Value::from(data.name.clone().filter(|name| !name.is_empty()));
    if kind == Kind::EmailChanged {
        let new_email = data.new_email.clone().unwrap_or_default();
        context! { locale => locale.as_str(), name, link, new_email }
    } else {
        context! { locale => locale.as_str(), name, link }
    }
}

fn render_with(
    env: &Environment<'_>,
    kind: Kind,
    locale: Locale,
    context: &Value,
) -> Result<Rendered, minijinja::Error> {
    let part = |part: &str| env.get_template(&name(locale, kind, part))?.render(context);
    Ok(Rendered {
        subject: one_line(&part("subject.txt")?),
        text: part("txt")?,
        html: part("html")?,
    })
}

/// Prints a value, HTML-escaped in an HTML template unless marked `safe`. minijinja's own
/// escaping also turns `/` into `&#x2f;`, which no element or quoted attribute needs and
/// which makes every link in the HTML differ from the same link in the text part (mail
/// providers' click tracking, and the tests, compare them); this escapes the five characters
/// that can end an element's text or a quoted attribute, and nothing else.
fn html_formatter(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if *state.auto_escape() != AutoEscape::Html || value.is_safe() {
        return escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped)
        .map_err(|err| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, err.to_string()))
}

/// A subject as a header can carry it: control characters (a line break above all) become
/// spaces, so no value can start a header of its own.
pub fn one_line(subject: &str) -> String {
    subject
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://app.example.com/reset-password#token=abc";

    fn render(kind: Kind, data: &Data) -> Rendered {
        Templates::load(None, "Acme")
            .unwrap()
            .render(kind, data, LINK)
            .unwrap()
    }

    #[test]
    fn every_kind_renders_a_subject_text_and_html_with_its_link_in_every_locale() {
        for locale in LOCALES {
            for kind in Kind::ALL {
                let data = Data {
                    locale: Some(locale.into()),
                    ..Data::default()
                };
                let r = render(kind, &data);
                assert!(r.subject.contains("Acme"), "{locale} {kind:?}");
                assert!(!r.subject.contains('\n'), "{locale} {kind:?}");
                assert!(r.text.contains(LINK), "{locale} {kind:?} text");
                assert!(
                    r.html.contains(&format!("href=\"{LINK}\"")),
                    "{locale} {kind:?} html"
                );
                assert!(
                    r.html.contains(&format!("<html lang=\"{locale}\">")),
                    "{locale} {kind:?}"
                );
                let hello = if locale == "de" { "Hallo," } else { "Hello," };
                assert!(r.text.starts_with(hello), "{locale} {kind:?}: {}", r.text);
                assert!(r.text.trim_end().ends_with("— Acme"), "{locale} {kind:?}");
                assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            }
        }
    }

    #[test]
    fn german_is_german_and_an_unknown_or_missing_locale_is_english() {
        let de = Data {
            locale: Some("de".into()),
            ..Data::default()
        };
        assert_eq!(
            render(Kind::ResetPassword, &de).subject,
            "Passwort für Acme zurücksetzen"
        );
        for locale in [None, Some("xx".to_owned())] {
            let data = Data {
                locale,
                ..Data::default()
            };
            assert_eq!(
                render(Kind::ResetPassword, &data).subject,
                "Reset your Acme password"
            );
        }
    }

    #[test]
    fn user_input_is_escaped_in_html_and_kept_out_of_subjects() {
        let data = Data {
            name: Some("<script>alert(1)</script>\r\nBcc: x@evil".into()),
            new_email: Some("\"new\"@example.com".into()),
            locale: None,
        };
        let r = render(Kind::EmailChanged, &data);
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
    fn a_subject_never_carries_a_line_break() {
        assert_eq!(one_line(" Hi\r\nBcc: x@evil\n"), "Hi  Bcc: x@evil");
    }

    #[test]
    fn the_email_changed_notice_names_the_new_address() {
        let data = Data {
            new_email: Some("ann@new.example".into()),
            ..Data::default()
        };
        let r = render(Kind::EmailChanged, &data);
        assert!(r.text.contains("ann@new.example"));
    }

    #[test]
    fn a_name_greets_and_no_name_does_not() {
        let data = Data {
            name: Some("Ann".into()),
            ..Data::default()
        };
        assert!(
            render(Kind::VerifyEmail, &data)
                .text
                .starts_with("Hello Ann,")
        );
        assert!(
            render(Kind::VerifyEmail, &Data::default())
                .text
                .starts_with("Hello,\n")
        );
    }

    #[test]
    fn debug_never_shows_the_bodies() {
        let r = render(Kind::ResetPassword, &Data::default());
        assert!(!format!("{r:?}").contains("token=abc"));
    }

    /// Every file in crates/server/templates is compiled in, and every template has a file.
    #[test]
    fn the_built_in_files_are_exactly_the_templates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk = Vec::new();
        for locale in std::iter::once(dir.clone()).chain(LOCALES.map(|l| dir.join(l))) {
            for entry in std::fs::read_dir(&locale).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let name = path.strip_prefix(&dir).unwrap().to_str().unwrap();
                    on_disk.push(name.to_owned());
                }
            }
        }
        let mut names = all_names();
        let mut compiled: Vec<String> = builtin::FILES.iter().map(|(n, _)| n.to_string()).collect();
        for list in [&mut on_disk, &mut names, &mut compiled] {
            list.sort();
        }
        assert_eq!(on_disk, names);
        assert_eq!(compiled, names);
    }
}
