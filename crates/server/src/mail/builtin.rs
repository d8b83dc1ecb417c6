//! The built-in templates, compiled into the binary from `crates/server/templates/`: the
//! layout every HTML part extends, and per locale a subject, a text and an HTML part per
//! kind. An operator copies that folder to start their own (`LATCHKEY_TEMPLATES_DIR`).

/// `(name, source)`; a name is the file's path under the templates folder.
macro_rules! files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

pub const FILES: &[(&str, &str)] = files![
    "layout.html",
    "en/reset_password.subject.txt",
    "en/reset_password.txt",
    "en/reset_password.html",
    "en/verify_email.subject.txt",
    "en/verify_email.txt",
    "en/verify_email.html",
    "en/confirm_email_change.subject.txt",
    "en/confirm_email_change.txt",
    "en/confirm_email_change.html",
    "en/password_changed.subject.txt",
    "en/password_changed.txt",
    "en/password_changed.html",
    "en/email_changed.subject.txt",
    "en/email_changed.txt",
    "en/email_changed.html",
    "en/account_exists.subject.txt",
    "en/account_exists.txt",
    "en/account_exists.html",
    "en/sign_in_blocked.subject.txt",
    "en/sign_in_blocked.txt",
    "en/sign_in_blocked.html",
    "de/reset_password.subject.txt",
    "de/reset_password.txt",
    "de/reset_password.html",
    "de/verify_email.subject.txt",
    "de/verify_email.txt",
    "de/verify_email.html",
    "de/confirm_email_change.subject.txt",
    "de/confirm_email_change.txt",
    "de/confirm_email_change.html",
    "de/password_changed.subject.txt",
    "de/password_changed.txt",
    "de/password_changed.html",
    "de/email_changed.subject.txt",
    "de/email_changed.txt",
    "de/email_changed.html",
    "de/account_exists.subject.txt",
    "de/account_exists.txt",
    "de/account_exists.html",
    "de/sign_in_blocked.subject.txt",
    "de/sign_in_blocked.txt",
    "de/sign_in_blocked.html",
];
