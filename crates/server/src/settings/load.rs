//! Loading the settings in layers: the defaults, then the file, then the environment, then
//! flags, each replacing what the one before set.
//!
//! Every layer is first written into one TOML tree, remembering who set each key; serde then
//! reads the tree once. So every value goes through the same parser whichever layer gave it,
//! and an error can name the variable, flag or file key that gave the bad value, rather than
//! a field of a struct the operator never sees.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::vars::{self, VARS};
use super::{Flags, Settings, check, secret};

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File { path: PathBuf, key: String },
    Env(String),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File { path, key } => write!(f, "{}: {key}", path.display()),
            Source::Env(name) => f.write_str(name),
            Source::Flag(flag) => write!(f, "--{flag}"),
        }
    }
}

/// Who set each key, and which file was read.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    set: HashMap<String, Source>,
    /// The settings file, if one was read.
    pub file: Option<PathBuf>,
}

impl Sources {
    pub fn of(&self, key: &str) -> &Source {
        self.set.get(key).unwrap_or(&Source::Default)
    }

    /// How an error about `key` names it: where its value came from, or, for a default,
    /// its environment variable.
    pub fn name(&self, key: &str) -> String {
        match (self.of(key), vars::by_key(key)) {
            (Source::Default, Some(var)) => var.env.to_owned(),
            (Source::Default, None) => key.to_owned(),
            (source, _) => source.to_string(),
        }
    }
}

/// One layer: (key, value, who set it), in order.
type Layer = Vec<(String, Value, Source)>;

/// Loads the settings from the process's environment, `config` (`--config`) and `flags`.
pub fn load(config: Option<&Path>, flags: &Flags) -> anyhow::Result<(Settings, Sources)> {
    load_from(config, flags, &|name| std::env::var(name).ok())
}

/// As [`load`], with the environment given (tests).
pub fn load_from(
    config: Option<&Path>,
    flags: &Flags,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<(Settings, Sources)> {
    // An empty variable counts as unset, as `FOO=` in a compose file means.
    let env = |name: &str| env(name).filter(|value| !value.is_empty());
    let mut tree = Table::new();
    let mut sources = Sources::default();
    if let Some((path, text)) = settings_file(config, &env)? {
        let layer = file_layer(&path, &text)?;
        merge(&mut tree, &mut sources, layer);
        sources.file = Some(path);
    }
    merge(&mut tree, &mut sources, env_layer(&env));
    merge(&mut tree, &mut sources, flag_layer(flags));
    read_secret_files(&mut tree, &mut sources)?;
    let settings: Settings =
        serde_path_to_error::deserialize(Value::Table(tree)).map_err(|err| {
            let key = err.path().to_string();
            let name = match (sources.of(&key), &sources.file) {
                (Source::Default, Some(file)) => format!("{}: {key}", file.display()),
                _ => sources.name(&key),
            };
            anyhow::anyhow!("{name}: {}", err.inner().message())
        })?;
    check::ranges(&settings, &sources)?;
    Ok((settings, sources))
}

/// The file to read: `--config`, else `LATCHKEY_CONFIG`, else `latchkey.toml` if present.
fn settings_file(
    config: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<(PathBuf, String)>> {
    let (path, named_by) = match (config, env("LATCHKEY_CONFIG")) {
        (Some(path), _) => (path.to_owned(), "--config"),
        (None, Some(path)) => (PathBuf::from(path), "LATCHKEY_CONFIG"),
        (None, None) if Path::new(DEFAULT_FILE).exists() => (DEFAULT_FILE.into(), DEFAULT_FILE),
        (None, None) => return Ok(None),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| anyhow::anyhow!("{named_by}: cannot read {}: {err}", path.display()))?;
    Ok(Some((path, text)))
}

/// The settings file read when neither `--config` nor `LATCHKEY_CONFIG` names one.
pub const DEFAULT_FILE: &str = "latchkey.toml";

fn file_layer(path: &Path, text: &str) -> anyhow::Result<Layer> {
    let table: Table = text.parse().map_err(|err: toml::de::Error| {
        // The message and position only: the parser's excerpt of the line could show a
        // secret written on it.
        let at = err.span().map(|span| {
            let before = &text[..span.start];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!(" (line {line}, column {column})")
        });
        anyhow::anyhow!(
            "{}: {}{}",
            path.display(),
            err.message(),
            at.unwrap_or_default()
        )
    })?;
    let source = |key: &str| Source::File {
        path: path.to_owned(),
        key: key.to_owned(),
    };
    let mut layer = Layer::new();
    for (name, value) in table {
        match value {
            Value::Table(section) => {
                for (field, value) in section {
                    let key = format!("{name}.{field}");
                    layer.push((key.clone(), value, source(&key)));
                }
            }
            value => layer.push((name.clone(), value, source(&name))),
        }
    }
    Ok(layer)
}

fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> Layer {
    let mut layer = Layer::new();
    for var in VARS {
        // Aliases first, so the main name, read last, wins.
        for name in var.aliases.iter().chain([&var.env]) {
            if let Some(value) = env(name) {
                layer.push((
                    var.key.into(),
                    Value::String(value),
                    Source::Env(name.to_string()),
                ));
            }
        }
        if let Some((name, key)) = var.file_names()
            && let Some(path) = env(&name)
        {
            layer.push((key, Value::String(path), Source::Env(name)));
        }
    }
    layer
}

fn flag_layer(flags: &Flags) -> Layer {
    flags
        .values()
        .filter(|(_, value)| !value.is_empty())
        .map(|(var, value)| {
            let flag = var.flag.unwrap_or(var.key);
            (var.key.to_owned(), Value::String(value), Source::Flag(flag))
        })
        .collect()
}

/// Writes `layer` over `tree`. A secret given in this layer, as its value or as its file,
/// replaces both from earlier layers: `LATCHKEY_SMTP_PASSWORD_FILE` in the environment
/// overrides a password written in the settings file. (Within one layer the value wins.)
fn merge(tree: &mut Table, sources: &mut Sources, layer: Layer) {
    for var in VARS.iter().filter(|var| var.is_secret()) {
        let file_key = format!("{}_file", var.key);
        if layer
            .iter()
            .any(|(key, ..)| *key == var.key || *key == file_key)
        {
            for key in [var.key, &file_key] {
                remove(tree, key);
                sources.set.remove(key);
            }
        }
    }
    for (key, value, source) in layer {
        insert(tree, &key, value);
        sources.set.insert(key, source);
    }
}

/// Replaces each `NAME_FILE` of a [`vars::Kind::Secret`] with the file's contents. (The key
/// secrets' files stay paths: development may have to create them.)
fn read_secret_files(tree: &mut Table, sources: &mut Sources) -> anyhow::Result<()> {
    for var in VARS {
        let Some((_, file_key)) = var.file_names() else {
            continue;
        };
        let Some(path) = remove(tree, &file_key) else {
            continue;
        };
        let source = sources.set.remove(&file_key).unwrap_or(Source::Default);
        if get(tree, var.key).is_some() {
            // Both from one layer (a later layer replaces both): the value wins, as it
            // always has for the key secrets, but say so, since one of them is a mistake.
            tracing::warn!("{source} is not read: {} is set too", sources.name(var.key));
            continue;
        }
        let Value::String(path) = path else {
            anyhow::bail!("{source}: expected a path");
        };
        let text = secret::read_file(Path::new(&path))
            .map_err(|err| anyhow::anyhow!("{source}: {err}"))?;
        insert(tree, var.key, Value::String(text));
        sources.set.insert(var.key.to_owned(), source);
    }
    Ok(())
}

fn split(key: &str) -> (Option<&str>, &str) {
    match key.split_once('.') {
        Some((section, field)) => (Some(section), field),
        None => (None, key),
    }
}

fn insert(tree: &mut Table, key: &str, value: Value) {
    match split(key) {
        (None, field) => {
            tree.insert(field.to_owned(), value);
        }
        (Some(section), field) => {
            let entry = tree
                .entry(section)
                .or_insert_with(|| Value::Table(Table::new()));
            if !entry.is_table() {
                *entry = Value::Table(Table::new());
            }
            if let Value::Table(section) = entry {
                section.insert(field.to_owned(), value);
            }
        }
    }
}

fn remove(tree: &mut Table, key: &str) -> Option<Value> {
    match split(key) {
        (None, field) => tree.remove(field),
        (Some(section), field) => tree.get_mut(section)?.as_table_mut()?.remove(field),
    }
}

fn get<'a>(tree: &'a Table, key: &str) -> Option<&'a Value> {
    match split(key) {
        (None, field) => tree.get(field),
        (Some(section), field) => tree.get(section)?.as_table()?.get(field),
    }
}
