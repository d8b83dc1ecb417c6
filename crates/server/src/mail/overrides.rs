//! The operator's templates (`LATCHKEY_TEMPLATES_DIR`), and the check every start makes.
//!
//! The folder has the layout of `crates/server/templates`: `layout.html` at the top, and a
//! folder per locale holding `<kind>.subject.txt`, `<kind>.txt` and `<kind>.html`. A file
//! there replaces the built-in one of the same name; a missing one keeps the built-in. A
//! file whose name matches no template is refused rather than ignored: it is almost always
//! a misspelling, and an ignored override is an email that silently says the wrong thing.
//! Hidden files (a leading `.`: editors' swap files, `.gitkeep`) are skipped.
//!
//! Then every template of every locale, built-in or not, is rendered with sample data, with
//! a name and without one, so an unknown variable, a bad filter or a multi-line subject is
//! found at start — naming the file — rather than when a user waits for the email.

use std::path::{Path, PathBuf};

use minijinja::Environment;

use super::locale::{LOCALES, Locale};
use super::templates::{self, Data, Kind, all_names, context};

/// One file of the operator's.
#[derive(Debug, Clone)]
pub struct Override {
    /// The template it replaces: its path under the folder, `/`-separated.
    pub name: String,
    pub path: PathBuf,
    pub source: String,
}

/// The setting named in every refusal.
const SETTING: &str = "LATCHKEY_TEMPLATES_DIR";

/// Reads the folder's templates, refusing a file that matches no template.
pub fn read(dir: &Path) -> anyhow::Result<Vec<Override>> {
    let known = all_names();
    let mut found = Vec::new();
    for path in entries(dir)? {
        let files = if path.is_dir() {
            let is_locale = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| LOCALES.contains(&n));
            if !is_locale {
                anyhow::bail!(
                    "{SETTING}: {}: is not a locale's folder (the locales are {})",
                    path.display(),
                    LOCALES.join(", ")
                );
            }
            entries(&path)?
        } else {
            vec![path]
        };
        for file in files {
            let name = file
                .strip_prefix(dir)
                .ok()
                .and_then(|rel| rel.to_str())
                .map(|rel| rel.replace(std::path::MAIN_SEPARATOR, "/"))
                .filter(|name| file.is_file() && known.contains(name));
            let Some(name) = name else {
                anyhow::bail!(
                    "{SETTING}: {}: matches no template (the names are those in crates/server/templates, e.g. layout.html, en/reset_password.subject.txt, de/verify_email.html)",
                    file.display()
                );
            };
            let source = std::fs::read_to_string(&file).map_err(|err| {
                anyhow::anyhow!("{SETTING}: {}: cannot read it: {err}", file.display())
            })?;
            found.push(Override {
                name,
                path: file,
                source,
            });
        }
    }
    Ok(found)
}

/// A folder's entries, sorted (so the first error is the same each start), without hidden
/// ones.
fn entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let read = std::fs::read_dir(dir).map_err(|err| {
        anyhow::anyhow!(
            "{SETTING}: {}: cannot read the folder: {err}",
            dir.display()
        )
    })?;
    let mut paths = Vec::new();
    for entry in read {
        let entry = entry.map_err(|err| {
            anyhow::anyhow!(
                "{SETTING}: {}: cannot read the folder: {err}",
                dir.display()
            )
        })?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            paths.push(entry.path());
        }
    }
    paths.sort();
    Ok(paths)
}

/// Renders every template of every locale with sample data, refusing the first that fails
/// or gives a subject that is not one line.
pub fn check(env: &Environment<'_>, overrides: &[Override]) -> anyhow::Result<()> {
    let samples = [
        Data {
            name: Some("Ann Example".into()),
            new_email: Some("ann@new.example".into()),
            locale: None,
        },
        Data::default(),
    ];
    for locale in LOCALES.map(|l| Locale::or_default(Some(l))) {
        for kind in Kind::ALL {
            let link = format!("https://app.example{}#token=sample-token", kind.page());
            for data in &samples {
                let context = context(kind, locale, data, &link);
                for part in templates::PARTS {
                    let name = templates::name(locale, kind, part);
                    let rendered = env
                        .get_template(&name)
                        .and_then(|template| template.render(&context))
                        .map_err(|err| refusal(overrides, &name, &err))?;
                    if part == "subject.txt" {
                        check_subject(overrides, &name, &rendered)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_subject(overrides: &[Override], name: &str, subject: &str) -> anyhow::Result<()> {
    let problem = if subject.contains(['\r', '\n']) {
        "the subject has a line break after rendering (a subject is one line)"
    } else if subject.chars().any(char::is_control) {
        "the subject has a control character after rendering"
    } else if subject.trim().is_empty() {
        "the subject is empty after rendering"
    } else {
        return Ok(());
    };
    anyhow::bail!("{SETTING}: {}: {problem}", file_of(overrides, name))
}

/// The refusal for a template error met while parsing or rendering `name`: it names the
/// file the error is in (an override's path, or the built-in template's name), which for a
/// layout error is the layout, not the template that extends it.
pub fn refusal(overrides: &[Override], name: &str, err: &minijinja::Error) -> anyhow::Error {
    let at = err.name().unwrap_or(name);
    anyhow::anyhow!("{SETTING}: {}: {}", file_of(overrides, at), describe(err))
}

fn file_of(overrides: &[Override], name: &str) -> String {
    overrides.iter().find(|o| o.name == name).map_or_else(
        || format!("the built-in {name}"),
        |o| o.path.display().to_string(),
    )
}

/// A template error on one line: where, what kind, and minijinja's detail.
pub fn describe(err: &minijinja::Error) -> String {
    let mut text = match err.line() {
        Some(line) => format!("line {line}: {}", err.kind()),
        None => err.kind().to_string(),
    };
    if let Some(detail) = err.detail() {
        text.push_str(": ");
        text.push_str(detail);
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
