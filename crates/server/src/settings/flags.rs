//! The command-line layer: one flag per setting that has one in [`super::vars::VARS`],
//! taken as text and parsed by the loader like every other layer. Flags read no
//! environment: [`super::load`] does that, once, for every layer's sake.

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::vars::{Kind, VARS, Var};

/// The settings flags given on the command line, as text.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    given: Vec<(&'static Var, String)>,
}

impl Flags {
    /// Each flag given, with its value (a repeated list flag's values joined by commas).
    pub fn values(&self) -> impl Iterator<Item = (&'static Var, String)> + '_ {
        self.given.iter().map(|(var, value)| (*var, value.clone()))
    }

    /// These flags, then `later`'s (which win).
    pub fn then(mut self, later: Flags) -> Self {
        for (var, value) in later.given {
            self.given.retain(|(given, _)| given.key != var.key);
            self.given.push((var, value));
        }
        self
    }

    /// These flags, plus `key` set to `value` (for subcommands that take a setting their
    /// own way, such as `keys generate --keys-file`).
    ///
    /// # Panics
    ///
    /// If `key` is not a setting: a typo in the code, not in input.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        let var = super::vars::by_key(key).unwrap_or_else(|| panic!("no setting {key}"));
        self.given.retain(|(given, _)| given.key != key);
        self.given.push((var, value.into()));
        self
    }
}

impl clap::FromArgMatches for Flags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Flags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for var in VARS.iter().filter(|var| var.flag.is_some()) {
            if let Some(values) = matches.get_many::<String>(var.key) {
                let value = values.cloned().collect::<Vec<_>>().join(",");
                self.given.retain(|(given, _)| given.key != var.key);
                self.given.push((var, value));
            }
        }
        Ok(())
    }
}

impl clap::Args for Flags {
    fn augment_args(cmd: Command) -> Command {
        VARS.iter().fold(cmd, |cmd, var| match var.flag {
            Some(flag) => cmd.arg(arg(var, flag)),
            None => cmd,
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

fn arg(var: &'static Var, flag: &'static str) -> Arg {
    // The value's name in `--help` is the id, the setting's key in the file.
    let arg = Arg::new(var.key)
        .long(flag)
        .help(format!("{} [env: {}]", var.help, var.env));
    match var.kind {
        // `--trusted-origins a --trusted-origins b`, as well as `a,b`.
        Kind::List => arg.action(ArgAction::Append),
        _ => arg.action(ArgAction::Set),
    }
}
