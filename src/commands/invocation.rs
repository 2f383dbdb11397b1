//! The text syntax shared by the console and Matrix, mirroring Discord's slash commands:
//! `/actor WIPO` or `!actor WIPO`; required options may be positional, the last string option
//! takes the rest of the line; named options are `name:value` or `name:"quoted value"`.

use std::collections::HashMap;

use super::spec::{self, Manifest, OptionKind};
use super::CommandName;
use crate::error::CommandError;
use crate::search::normalize::fold_typography;

/// A command line split into its command and words, before it is bound to options.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    pub command: CommandName,
    /// The text after the command name, typography folded, invisible characters removed.
    pub rest: String,
}

/// Option values by name, after binding.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    values: HashMap<String, String>,
    /// The subcommand, for commands that have them.
    pub subcommand: Option<String>,
}

impl Args {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn integer(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.parse().ok())
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.values.insert(name.to_string(), value.into());
    }

    /// Every (option, value), by option name.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        pairs.sort();
        pairs
    }
}

/// Splits `line` into the command and the rest. Unknown commands get a "did you mean".
pub fn parse(line: &str) -> Result<Invocation, CommandError> {
    let line = fold_typography(line);
    let body = line
        .strip_prefix('/')
        .or_else(|| line.strip_prefix('!'))
        .unwrap_or(&line)
        .trim_start();
    let (name, rest) = body.split_once(' ').unwrap_or((body, ""));
    let name = name.to_lowercase();
    if name.is_empty() {
        return Err(CommandError::usage("Type a command, for example:", "/help"));
    }
    match spec::find(&name) {
        Some(command) => Ok(Invocation {
            command,
            rest: rest.trim().to_string(),
        }),
        None => {
            let mut scored: Vec<(f64, &str)> = spec::manifests()
                .map(|(_, m)| (strsim::jaro_winkler(&name, &m.name), m.name.as_str()))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            let shown: String = name.chars().take(40).collect();
            let (message, example) = match scored.first() {
                Some((score, best)) if *score >= 0.7 => (
                    format!("There is no command /{shown}. Did you mean /{best}?"),
                    format!("/{best}"),
                ),
                _ => (
                    format!("There is no command /{shown}. /help lists what I can do."),
                    "/help".to_string(),
                ),
            };
            Err(CommandError::Usage {
                message: message.into(),
                example: Some(example),
            })
        }
    }
}

/// Positional words, and (option, value) pairs.
type Words = (Vec<String>, Vec<(String, String)>);

/// Splits the rest of a line into words, keeping "quoted phrases" together and recognising
/// `option:value` for the command's own option names only (so `ISO/IEC 27001:2013` and
/// `A/70/174` stay plain text).
fn words(options: &[super::spec::OptionSpec], rest: &str) -> Result<Words, CommandError> {
    let mut positional = Vec::new();
    let mut named = Vec::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != ':' && chars[i] != '"' {
            i += 1;
        }
        let head: String = chars[start..i].iter().collect();
        let is_option = i < chars.len()
            && chars[i] == ':'
            && options.iter().any(|o| o.name == head.to_lowercase());
        if is_option {
            i += 1;
            let value = read_value(&chars, &mut i)?;
            named.push((head.to_lowercase(), value));
        } else {
            i = start;
            let value = read_value(&chars, &mut i)?;
            positional.push(value);
        }
    }
    Ok((positional, named))
}

/// One value: a "quoted phrase" or a run of non-space characters.
fn read_value(chars: &[char], i: &mut usize) -> Result<String, CommandError> {
    if *i < chars.len() && chars[*i] == '"' {
        let start = *i + 1;
        let end = chars[start..]
            .iter()
            .position(|&c| c == '"')
            .map(|p| start + p);
        match end {
            Some(end) => {
                *i = end + 1;
                Ok(chars[start..end].iter().collect())
            }
            // An unclosed quote is taken as text, not an error: people type "like this.
            None => {
                *i = chars.len();
                Ok(chars[start..].iter().collect())
            }
        }
    } else {
        let start = *i;
        while *i < chars.len() && !chars[*i].is_whitespace() {
            *i += 1;
        }
        Ok(chars[start..*i].iter().collect())
    }
}

/// Binds the words of an invocation to the manifest's options (or its subcommand's).
pub fn bind(manifest: &Manifest, inv: &Invocation) -> Result<Args, CommandError> {
    if manifest.subcommands.is_empty() {
        let target = Target {
            command: &manifest.name,
            usage: manifest.usage(),
            example: &manifest.examples[0],
            options: &manifest.options,
        };
        return bind_options(&target, &inv.rest, None);
    }
    let (first, rest) = inv.rest.split_once(' ').unwrap_or((inv.rest.as_str(), ""));
    let (sub, rest) = match manifest.subcommand(&first.to_lowercase()) {
        Some(sub) => (sub, rest.trim()),
        // `/reminders` alone means its first subcommand (`list`).
        None if inv.rest.trim().is_empty() => (&manifest.subcommands[0], ""),
        None => {
            let names: Vec<&str> = manifest
                .subcommands
                .iter()
                .map(|s| s.name.as_str())
                .collect();
            return Err(CommandError::usage(
                format!(
                    "/{} needs one of: {}. Usage: {}",
                    manifest.name,
                    names.join(", "),
                    manifest.usage()
                ),
                manifest.examples[0].clone(),
            ));
        }
    };
    let prefix = format!("/{} {}", manifest.name, sub.name);
    let example = manifest
        .examples
        .iter()
        .find(|e| e.starts_with(&prefix))
        .unwrap_or(&manifest.examples[0]);
    let target = Target {
        command: &manifest.name,
        usage: sub.usage(&manifest.name),
        example,
        options: &sub.options,
    };
    bind_options(&target, rest, Some(sub.name.clone()))
}

/// What a line is bound to: a command's options, or one subcommand's.
struct Target<'a> {
    command: &'a str,
    usage: String,
    example: &'a str,
    options: &'a [super::spec::OptionSpec],
}

fn bind_options(
    t: &Target<'_>,
    rest: &str,
    subcommand: Option<String>,
) -> Result<Args, CommandError> {
    let (positional, named) = words(t.options, rest)?;
    let mut args = Args {
        subcommand,
        ..Args::default()
    };
    let had_named = !named.is_empty();
    for (name, value) in named {
        args.set(&name, value);
    }
    // Positional words fill the required options not given by name, in order; the last one
    // takes the rest of the line. With no required option open, and no option named, they
    // fill the first optional string option (`/events week`, `/help actor`). Anything else
    // left over is an error rather than a guess (`/event add title:Town hall` → "hall"?).
    let mut open: Vec<&super::spec::OptionSpec> = t
        .options
        .iter()
        .filter(|o| o.required && args.get(&o.name).is_none())
        .collect();
    if open.is_empty() && !had_named {
        open.extend(
            t.options.iter().find(|o| {
                !o.required && o.kind == OptionKind::String && args.get(&o.name).is_none()
            }),
        );
    }
    let mut words = positional.into_iter();
    for (n, o) in open.iter().enumerate() {
        let last_takes_rest = n + 1 == open.len() && o.kind == OptionKind::String;
        let value = if last_takes_rest {
            words.by_ref().collect::<Vec<_>>().join(" ")
        } else {
            words.next().unwrap_or_default()
        };
        if !value.trim().is_empty() {
            args.set(&o.name, value.trim());
        }
    }
    let leftover: Vec<String> = words.collect();
    if !leftover.is_empty() {
        return Err(CommandError::usage(
            format!(
                "I did not understand \"{}\". Usage: {}",
                leftover.join(" "),
                t.usage
            ),
            t.example.to_string(),
        ));
    }
    check(t, args)
}

/// Binds option values that arrive already named (a Discord interaction), with the same
/// normalisation and checks as a typed line: typography folded, invisible characters removed,
/// unknown options refused, required ones present, numbers numbers.
pub fn bind_values(
    manifest: &Manifest,
    subcommand: Option<&str>,
    values: &[(String, String)],
) -> Result<Args, CommandError> {
    let (target, sub) = named_target(manifest, subcommand)?;
    let mut args = Args {
        subcommand: sub,
        ..Args::default()
    };
    for (name, value) in values {
        bind_named(&target, &mut args, name, value)?;
    }
    check(&target, args)
}

/// The options the (sub)command takes, with its usage line, and the subcommand's name: the
/// first subcommand where the command has some and none was named.
fn named_target<'a>(
    manifest: &'a Manifest,
    subcommand: Option<&str>,
) -> Result<(Target<'a>, Option<String>), CommandError> {
    let (options, usage, sub) = match subcommand {
        Some(name) => {
            let sub = manifest.subcommand(name).ok_or_else(|| {
                CommandError::usage(
                    format!(
                        "/{} has no subcommand {}. Usage: {}",
                        manifest.name,
                        short(name),
                        manifest.usage()
                    ),
                    manifest.examples[0].clone(),
                )
            })?;
            (
                &sub.options,
                sub.usage(&manifest.name),
                Some(sub.name.clone()),
            )
        }
        None if manifest.subcommands.is_empty() => (&manifest.options, manifest.usage(), None),
        None => (
            &manifest.subcommands[0].options,
            manifest.subcommands[0].usage(&manifest.name),
            Some(manifest.subcommands[0].name.clone()),
        ),
    };
    let target = Target {
        command: &manifest.name,
        usage,
        example: &manifest.examples[0],
        options,
    };
    Ok((target, sub))
}

/// One named value: refused if the (sub)command has no such option, kept otherwise unless
/// it is blank.
fn bind_named(
    target: &Target<'_>,
    args: &mut Args,
    name: &str,
    value: &str,
) -> Result<(), CommandError> {
    if !target.options.iter().any(|o| o.name == name) {
        return Err(CommandError::usage(
            format!(
                "/{} has no option {}. Usage: {}",
                target.command,
                short(name),
                target.usage
            ),
            target.example.to_string(),
        ));
    }
    let kind = target
        .options
        .iter()
        .find(|o| o.name == name)
        .map(|o| o.kind);
    // A file's content is kept as it is; typed text is normalised like a typed line.
    let value = if kind == Some(OptionKind::Attachment) {
        value.to_string()
    } else {
        fold_typography(value).trim().to_string()
    };
    if !value.trim().is_empty() {
        args.set(name, value);
    }
    Ok(())
}

/// The names of a command's (or subcommand's) file options.
pub fn attachment_options<'a>(manifest: &'a Manifest, subcommand: Option<&str>) -> Vec<&'a str> {
    let options = match subcommand.and_then(|s| manifest.subcommand(s)) {
        Some(sub) => &sub.options,
        None => &manifest.options,
    };
    options
        .iter()
        .filter(|o| o.kind == OptionKind::Attachment)
        .map(|o| o.name.as_str())
        .collect()
}

/// The command line equivalent to named values, for logs and error replies.
pub fn line_of(
    command: CommandName,
    subcommand: Option<&str>,
    values: &[(String, String)],
) -> String {
    let mut line = format!("/{}", spec::manifest(command).name);
    if let Some(sub) = subcommand {
        line.push(' ');
        line.push_str(sub);
    }
    let files = attachment_options(spec::manifest(command), subcommand);
    for (name, value) in values {
        if files.contains(&name.as_str()) {
            line.push_str(&format!(" {name}:(a file of {} bytes)", value.len()));
        } else if value.contains(char::is_whitespace) {
            line.push_str(&format!(" {name}:\"{value}\""));
        } else {
            line.push_str(&format!(" {name}:{value}"));
        }
    }
    line
}

/// The checks every binding ends with: required options present, integers whole and ≥ 1.
fn check(t: &Target<'_>, args: Args) -> Result<Args, CommandError> {
    for o in t.options {
        match (args.get(&o.name), o.kind) {
            (None, _) if o.required => {
                return Err(CommandError::usage(
                    format!(
                        "/{} needs {}: {}. Usage: {}",
                        t.command, o.name, o.description, t.usage
                    ),
                    t.example.to_string(),
                ));
            }
            (Some(v), OptionKind::Integer)
                if v.parse::<i64>()
                    .is_ok_and(|n| o.max.is_some_and(|max| n > max)) =>
            {
                let max = o.max.unwrap_or_default();
                return Err(CommandError::usage(
                    format!(
                        "{}:{} is too large: at most {max} — for example {}:{max}",
                        o.name,
                        short(v),
                        o.name
                    ),
                    format!("/{} … {}:{max}", t.command, o.name),
                ));
            }
            (Some(v), OptionKind::Integer) if v.parse::<i64>().map_or(true, |n| n < o.min) => {
                return Err(CommandError::usage(
                    format!(
                        "{}:{} must be a whole number from {} — for example {}:{}",
                        o.name,
                        short(v),
                        o.min,
                        o.name,
                        o.min + 1
                    ),
                    format!("/{} … {}:{}", t.command, o.name, o.min + 1),
                ));
            }
            _ => {}
        }
    }
    Ok(args)
}

fn short(s: &str) -> String {
    s.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(line: &str) -> Result<(CommandName, Args), String> {
        let inv = parse(line).map_err(|e| e.to_string())?;
        let args = bind(spec::manifest(inv.command), &inv).map_err(|e| e.to_string())?;
        Ok((inv.command, args))
    }

    #[test]
    fn integers_stay_within_their_manifest_bounds() {
        let err = bound("/settings moderators power:150").unwrap_err();
        assert!(err.contains("at most 100"), "{err}");
        assert!(bound("/settings moderators power:0").is_ok());
        assert!(bound("/settings moderators power:-1").is_err());
        let err = bound("/who-works-on AI page:0").unwrap_err();
        assert!(err.contains("from 1"), "{err}");
    }

    #[test]
    fn named_values_bind_like_a_typed_line() {
        let m = spec::manifest(CommandName::Event);
        let values = vec![
            ("title".to_string(), "Town\u{00A0}hall \u{200B}".to_string()),
            ("when".to_string(), "tomorrow 10:00".to_string()),
        ];
        let args = bind_values(m, Some("add"), &values).unwrap();
        assert_eq!(args.subcommand.as_deref(), Some("add"));
        assert_eq!(args.get("title"), Some("Town hall"));
        assert!(
            bind_values(m, Some("add"), &values[..1]).is_err(),
            "when: is required"
        );
        assert!(bind_values(m, Some("nope"), &values).is_err());
        let unknown = vec![("colour".to_string(), "red".to_string())];
        assert!(bind_values(spec::manifest(CommandName::Actor), None, &unknown).is_err());
        assert_eq!(
            line_of(CommandName::Event, Some("add"), &values[1..]),
            "/event add when:\"tomorrow 10:00\""
        );
    }

    #[test]
    fn slash_and_bang_prefixes_both_work() {
        for line in [
            "/actor WIPO",
            "!actor WIPO",
            "actor WIPO",
            "/ACTOR   WIPO  ",
        ] {
            let (c, args) = bound(line).unwrap();
            assert_eq!(
                (c, args.get("name")),
                (CommandName::Actor, Some("WIPO")),
                "{line}"
            );
        }
    }

    #[test]
    fn the_last_string_option_takes_the_rest_of_the_line() {
        let (_, args) = bound("/actor world intellectual property").unwrap();
        assert_eq!(args.get("name"), Some("world intellectual property"));
    }

    #[test]
    fn named_options_work_anywhere_and_with_quotes() {
        let (_, args) = bound("/who-works-on page:2 capacity building").unwrap();
        assert_eq!(
            (args.get("topic"), args.integer("page")),
            (Some("capacity building"), Some(2))
        );
        let (_, args) = bound("/who-works-on topic:\"capacity building\" page:3").unwrap();
        assert_eq!(
            (args.get("topic"), args.integer("page")),
            (Some("capacity building"), Some(3))
        );
    }

    #[test]
    fn colons_that_are_not_option_names_are_text() {
        let (_, args) = bound("/standard ISO/IEC 27001:2013").unwrap();
        assert_eq!(args.get("identifier"), Some("ISO/IEC 27001:2013"));
        let (_, args) = bound("/document A/70/174").unwrap();
        assert_eq!(args.get("query"), Some("A/70/174"));
    }

    #[test]
    fn a_missing_argument_is_a_usage_error_with_an_example() {
        let err = bound("/actor").unwrap_err();
        assert!(
            err.contains("/actor needs name") && err.contains("Usage: /actor <name>"),
            "{err}"
        );
        let err = bound("/who-works-on AI page:zero").unwrap_err();
        assert!(err.contains("page:zero must be a whole number"), "{err}");
    }

    #[test]
    fn unknown_commands_get_a_did_you_mean() {
        assert_eq!(
            bound("/actr WIPO").unwrap_err(),
            "There is no command /actr. Did you mean /actor?"
        );
        assert_eq!(
            bound("/xyzzy").unwrap_err(),
            "There is no command /xyzzy. /help lists what I can do."
        );
    }

    #[test]
    fn unclosed_quotes_are_text() {
        let (_, args) = bound("/search \"paris call").unwrap();
        assert_eq!(args.get("words"), Some("paris call"));
    }
}
