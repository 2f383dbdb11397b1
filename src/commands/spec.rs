//! Command manifests (commands/*.toml): the interface of each command — name, summary, options,
//! who may run it, examples, long help — embedded at compile time. Parsing, `/help` and the
//! Discord registration are all generated from them. No logic here.

use std::sync::LazyLock;

use serde::Deserialize;

use super::CommandName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Everyone,
    Moderator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptionKind {
    String,
    Integer,
    /// A channel or room: a name or id as text; on Discord, a channel picker.
    Channel,
    /// A Discord role: a name or id as text; on Discord, a role picker.
    Role,
    /// A file: a path on the console; on Discord, an uploaded file whose content the adapter
    /// fetches and passes as the value.
    Attachment,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    pub name: String,
    pub kind: OptionKind,
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub autocomplete: bool,
    /// The smallest value an integer option takes (page numbers start at 1, power levels at 0).
    #[serde(default = "one")]
    pub min: i64,
    /// The largest, if there is one (power levels stop at 100).
    #[serde(default)]
    pub max: Option<i64>,
    /// The values a string option takes, when it takes only these (`/event sync add|list|remove`):
    /// Discord offers them as a list; the command's own parser refuses others.
    #[serde(default)]
    pub choices: Vec<String>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub summary: String,
    pub permission: Permission,
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    /// Subcommands (`/event add`, `/event show`): each with its own options and permission.
    /// The first is the default when none is named (`/reminders` = `/reminders list`).
    #[serde(default)]
    pub subcommands: Vec<Subcommand>,
    pub examples: Vec<String>,
    pub help: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subcommand {
    pub name: String,
    pub summary: String,
    pub permission: Permission,
    #[serde(default)]
    pub options: Vec<OptionSpec>,
    /// Options asked in a form when the subcommand comes with no options at all (Discord's
    /// modal: at most five text fields). Its options are then optional to start it; the
    /// command itself still requires what it needs.
    #[serde(default)]
    pub form: Vec<String>,
}

impl Manifest {
    /// "/who-works-on <topic> [page:N]", "/event <show|add|edit|cancel>"
    pub fn usage(&self) -> String {
        let mut u = format!("/{}", self.name);
        if !self.subcommands.is_empty() {
            u.push_str(&format!(
                " <{}>",
                self.subcommands
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("|")
            ));
        }
        u.push_str(&options_usage(&self.options));
        u
    }

    pub fn subcommand(&self, name: &str) -> Option<&Subcommand> {
        self.subcommands.iter().find(|s| s.name == name)
    }
}

impl Subcommand {
    pub fn usage(&self, command: &str) -> String {
        format!("/{command} {}{}", self.name, options_usage(&self.options))
    }
}

fn options_usage(options: &[OptionSpec]) -> String {
    let mut u = String::new();
    {
        for o in options {
            let slot = match (o.kind, o.required) {
                (
                    OptionKind::String
                    | OptionKind::Channel
                    | OptionKind::Role
                    | OptionKind::Attachment,
                    true,
                ) => format!(" <{}>", o.name),
                (
                    OptionKind::String
                    | OptionKind::Channel
                    | OptionKind::Role
                    | OptionKind::Attachment,
                    false,
                ) => format!(" [{}]", o.name),
                (OptionKind::Integer, _) => format!(" [{}:N]", o.name),
            };
            u.push_str(&slot);
        }
    }
    u
}

impl Manifest {
    pub fn option(&self, name: &str) -> Option<&OptionSpec> {
        self.options.iter().find(|o| o.name == name)
    }
}

/// The manifests, parsed once. A malformed manifest is a build mistake, caught by the unit
/// tests below before it can ship; at run time it would panic at first use.
static MANIFESTS: LazyLock<Vec<(CommandName, Manifest)>> = LazyLock::new(|| {
    CommandName::ALL
        .iter()
        .map(|&c| {
            let m: Manifest = toml::from_str(c.manifest_source())
                .unwrap_or_else(|e| panic!("commands/{}: {e}", c.manifest_file()));
            (c, m)
        })
        .collect()
});

pub fn manifests() -> impl Iterator<Item = (CommandName, &'static Manifest)> {
    MANIFESTS.iter().map(|(c, m)| (*c, m))
}

pub fn manifest(command: CommandName) -> &'static Manifest {
    &MANIFESTS
        .iter()
        .find(|(c, _)| *c == command)
        .expect("every command has a manifest")
        .1
}

/// The command a name refers to (names live in the manifests, nowhere else).
pub fn find(name: &str) -> Option<CommandName> {
    MANIFESTS
        .iter()
        .find(|(_, m)| m.name == name)
        .map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    // Discord's limits on application commands, one rule per test.

    /// A name Discord accepts for a command, subcommand or option: 1–32 letters, digits,
    /// `-` or `_`, lowercase.
    fn is_discord_name(s: &str) -> bool {
        let name = Regex::new(r"^[-_\p{L}\p{N}]{1,32}$").unwrap();
        name.is_match(s) && s.to_lowercase() == s
    }

    /// Where a manifest's option lists live: the command's own, then each subcommand's, each
    /// with how the assertion messages name it ("event" or "event add").
    fn option_lists(m: &Manifest) -> Vec<(String, &[OptionSpec])> {
        let mut lists = vec![(m.name.clone(), m.options.as_slice())];
        for sc in &m.subcommands {
            lists.push((format!("{} {}", m.name, sc.name), sc.options.as_slice()));
        }
        lists
    }

    #[test]
    fn command_and_subcommand_names_are_discord_names() {
        for (_, m) in manifests() {
            assert!(is_discord_name(&m.name), "bad name {}", m.name);
            for sc in &m.subcommands {
                assert!(
                    is_discord_name(&sc.name),
                    "{}: bad subcommand name {}",
                    m.name,
                    sc.name
                );
            }
        }
    }

    #[test]
    fn every_summary_is_1_to_100_characters() {
        for (_, m) in manifests() {
            assert!(
                (1..=100).contains(&m.summary.chars().count()),
                "{}: summary must be 1–100 characters",
                m.name
            );
            for sc in &m.subcommands {
                assert!(
                    (1..=100).contains(&sc.summary.chars().count()),
                    "{} {}: summary must be 1–100 characters",
                    m.name,
                    sc.name
                );
            }
        }
    }

    #[test]
    fn a_command_has_at_most_25_options_or_subcommands_never_both() {
        for (_, m) in manifests() {
            assert!(
                m.options.len() <= 25 && m.subcommands.len() <= 25,
                "{}: at most 25 options and subcommands",
                m.name
            );
            assert!(
                m.options.is_empty() || m.subcommands.is_empty(),
                "{}: Discord allows options or subcommands, not both",
                m.name
            );
            for sc in &m.subcommands {
                assert!(sc.options.len() <= 25);
            }
        }
    }

    #[test]
    fn every_option_has_a_discord_name_and_a_1_to_100_character_description() {
        for (_, m) in manifests() {
            for (owner, options) in option_lists(m) {
                for o in options {
                    assert!(
                        is_discord_name(&o.name),
                        "{owner}: bad option name {}",
                        o.name
                    );
                    assert!(
                        (1..=100).contains(&o.description.chars().count()),
                        "{owner}.{}: description must be 1–100 characters",
                        o.name
                    );
                }
            }
        }
    }

    /// Discord requires required options before optional ones.
    #[test]
    fn required_options_come_before_optional_ones() {
        for (_, m) in manifests() {
            for (owner, options) in option_lists(m) {
                let first_optional = options
                    .iter()
                    .position(|o| !o.required)
                    .unwrap_or(options.len());
                assert!(
                    options[first_optional..].iter().all(|o| !o.required),
                    "{owner}: required options come first"
                );
            }
        }
    }

    /// A form is Discord's modal: at most five text fields, each a string option of the
    /// subcommand, and every option the command requires among them.
    #[test]
    fn a_form_has_at_most_five_string_fields_and_every_required_option() {
        for (_, m) in manifests() {
            for sc in m.subcommands.iter().filter(|sc| !sc.form.is_empty()) {
                assert!(
                    sc.form.len() <= 5,
                    "{} {}: a form has at most 5 fields",
                    m.name,
                    sc.name
                );
                for f in &sc.form {
                    let o = sc.options.iter().find(|o| &o.name == f);
                    assert!(
                        o.is_some_and(|o| o.kind == OptionKind::String),
                        "{} {}: form field {f} is not a string option",
                        m.name,
                        sc.name
                    );
                }
                for o in sc.options.iter().filter(|o| o.required) {
                    assert!(
                        sc.form.contains(&o.name),
                        "{} {}: required option {} missing from the form",
                        m.name,
                        sc.name,
                        o.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_manifest_has_examples_and_help() {
        for (_, m) in manifests() {
            assert!(
                !m.examples.is_empty() && !m.help.trim().is_empty(),
                "{}: examples and help are required",
                m.name
            );
        }
    }

    #[test]
    fn every_number_a_person_can_send_has_bounds_in_its_manifest() {
        for (_, m) in manifests() {
            let all = m
                .options
                .iter()
                .chain(m.subcommands.iter().flat_map(|sc| sc.options.iter()));
            for o in all.filter(|o| o.kind == OptionKind::Integer) {
                let max = o
                    .max
                    .unwrap_or_else(|| panic!("{}.{}: integer options need a max", m.name, o.name));
                assert!(o.min <= max, "{}.{}: min above max", m.name, o.name);
                // Within what every platform carries as a number (Discord: 2^53).
                assert!(max < 1 << 53, "{}.{}: max too large", m.name, o.name);
            }
        }
    }

    #[test]
    fn every_command_has_one_manifest_with_a_unique_name() {
        let names: Vec<&str> = manifests().map(|(_, m)| m.name.as_str()).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{names:?}");
        for (c, m) in manifests() {
            assert_eq!(
                c.manifest_file(),
                format!("{}.toml", m.name),
                "the file is named after the command"
            );
        }
    }

    #[test]
    fn every_manifest_in_the_commands_directory_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("commands");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut embedded: Vec<String> = CommandName::ALL
            .iter()
            .map(|c| c.manifest_file().to_string())
            .collect();
        embedded.sort();
        assert_eq!(files, embedded);
    }

    #[test]
    fn every_example_parses() {
        for (_, m) in manifests() {
            for e in &m.examples {
                let inv =
                    super::super::invocation::parse(e).unwrap_or_else(|err| panic!("{e}: {err}"));
                assert_eq!(inv.command, find(&m.name).unwrap(), "{e}");
                super::super::invocation::bind(m, &inv).unwrap_or_else(|err| panic!("{e}: {err}"));
            }
        }
    }
}
