//! The interactive console as a person meets it: `atlasbot console` in a real pseudo-terminal
//! (driven by tests/it/console_tty.py through Python's `pty`), with a window of a given width.
//! Tab completion from the core's autocomplete, answers wrapped at word boundaries, colour
//! that `NO_COLOR`, `CLICOLOR=0`, `TERM=dumb`, `--color never` and pipes turn off (and
//! `CLICOLOR_FORCE` turns on even in a pipe), history kept between runs.

use std::path::Path;
use std::process::{Command, Stdio};

use regex::Regex;
use unicode_width::UnicodeWidthStr;

use crate::support::{self, TempDb};

/// What `atlasbot console` wrote to a terminal `cols` wide while `keys` were typed.
fn session(
    db: &TempDb,
    data: &Path,
    cols: u16,
    env: &[(&str, &str)],
    args: &[&str],
    keys: &[&str],
) -> String {
    let mut cmd = vec![env!("CARGO_BIN_EXE_atlasbot").to_string()];
    cmd.extend(db.args());
    cmd.push("console".into());
    cmd.extend(args.iter().map(|a| a.to_string()));
    let mut vars: serde_json::Map<String, serde_json::Value> = env
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
        .collect();
    vars.insert("XDG_DATA_HOME".into(), data.display().to_string().into());
    vars.entry("TERM")
        .or_insert_with(|| "xterm-256color".into());
    // The colour conventions this session does not set are unset, whatever the test runner has.
    let unset: Vec<&str> = ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"]
        .into_iter()
        .filter(|v| !env.iter().any(|(k, _)| k == v))
        .collect();
    let spec = serde_json::json!({
        "cmd": cmd, "cols": cols, "rows": 50, "env": vars, "unset": unset, "keys": keys,
    });
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/console_tty.py"))
        .arg(spec.to_string())
        .output()
        .expect("python3 runs the pseudo-terminal driver");
    assert!(out.status.success(), "{}", support::stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !text.contains("[still running: killed]"),
        "the console did not end on Ctrl-D:\n{text}"
    );
    text
}

/// Colour escapes (SGR), as opposed to the line editor's cursor movements.
fn sgr() -> Regex {
    Regex::new("\x1b\\[[0-9;]*m").unwrap()
}

/// The text a person reads: escape sequences and carriage returns removed.
fn screen(raw: &str) -> String {
    let csi = Regex::new("\x1b\\[[0-9;?]*[A-Za-z]").unwrap();
    csi.replace_all(raw, "").replace('\r', "")
}

/// A database with the bundled atlas, made once before the terminal opens (so that the first
/// start's import does not race the keys).
fn ready_db() -> TempDb {
    let db = TempDb::new();
    let out = support::atlasbot(&db.path, &["ask", "/topics"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    db
}

#[test]
fn tab_completes_commands_options_and_names_from_the_atlas() {
    let db = ready_db();
    let data = tempfile::tempdir().unwrap();
    let raw = session(
        &db,
        data.path(),
        100,
        &[("NO_COLOR", "1")],
        &[],
        &[
            "/act\t",
            "WIPO\r",
            "/actor wor\t\t",
            "\x15/follow topic:cybers\t",
            "\r",
            "/event ad\t",
            "\x15",
        ],
    );
    let shown = screen(&raw);
    assert!(
        shown.contains("> /actor WIPO"),
        "Tab did not complete /act:\n{shown}"
    );
    assert!(
        shown.contains("World Intellectual Property Organization (WIPO)"),
        "{shown}"
    );
    // Ambiguous: the second Tab lists the names that start so.
    for name in [
        "World Intellectual Property Organization",
        "World Trade Organization",
    ] {
        let listed = shown
            .lines()
            .filter(|l| !l.contains('>'))
            .any(|l| l.contains(name));
        assert!(listed, "{name} not listed:\n{shown}");
    }
    assert!(shown.contains("> /follow topic:Cybersecurity "), "{shown}");
    assert!(shown.contains("Following Cybersecurity"), "{shown}");
    assert!(shown.contains("> /event add "), "{shown}");
}

#[test]
fn answers_wrap_at_word_boundaries_to_the_terminals_width() {
    let db = ready_db();
    let data = tempfile::tempdir().unwrap();
    let plain = support::stdout(&support::atlasbot(&db.path, &["ask", "/actor WIPO"]));
    assert!(
        plain.lines().any(|l| l.width() > 120),
        "the test needs an answer with lines longer than the window"
    );
    let raw = session(
        &db,
        data.path(),
        120,
        &[("NO_COLOR", "1")],
        &[],
        &["/actor WIPO\r"],
    );
    let shown = screen(&raw);
    let start = shown
        .find("World Intellectual Property Organization (WIPO)")
        .expect("the answer");
    let answer = &shown[start..];
    let answer = &answer[..answer.find("Sources:").expect("its sources")];
    for line in answer.lines() {
        assert!(line.width() <= 120, "wider than the window: {line:?}");
    }
    // Only line breaks differ: the same words in the same order, none cut in two.
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    let plain_answer = &plain[..plain.find("Sources:").unwrap()];
    assert_eq!(words(answer), words(plain_answer));
    // Bullets keep their indent: a wrapped item continues under its text.
    assert!(answer.contains("\n    "), "{answer}");
}

#[test]
fn colour_on_a_terminal_and_none_with_no_color_never_or_a_pipe() {
    let db = ready_db();
    let data = tempfile::tempdir().unwrap();
    let coloured = session(&db, data.path(), 100, &[], &[], &["/actor WIPO\r"]);
    assert!(
        coloured.contains("\x1b[1;36mWorld Intellectual Property Organization (WIPO)\x1b[0m"),
        "no coloured title on a terminal:\n{coloured:?}"
    );
    // Without colour, nothing on the terminal is coloured: neither the answers nor the logs
    // (which share it, on stderr; `info` makes sure there is one to see).
    type Session<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let sessions: [Session; 4] = [
        (&[("NO_COLOR", "1")], &[]),
        (&[], &["--color", "never"]),
        (&[("TERM", "dumb")], &[]),
        (&[("CLICOLOR", "0")], &[]),
    ];
    for (env, args) in sessions {
        let env: Vec<(&str, &str)> = env
            .iter()
            .copied()
            // `CI` set, as on a CI runner: a heuristic that colours anyway (anstream's) must
            // not win over what the person's terminal says.
            .chain([("ATLASBOT_LOG", "info"), ("CI", "true")])
            .collect();
        let plain = session(&db, data.path(), 100, &env, args, &["/actor WIPO\r"]);
        let shown = screen(&plain);
        assert!(
            shown.contains("World Intellectual Property Organization (WIPO)"),
            "{env:?} {args:?} did not answer:\n{plain:?}"
        );
        assert!(
            shown.contains("INFO"),
            "{env:?} {args:?}: no log line to check:\n{plain:?}"
        );
        assert!(
            !sgr().is_match(&plain),
            "{env:?} {args:?} still coloured:\n{plain:?}"
        );
    }
    // Pipes: the console and ask print plain text, and --color always is what it says.
    let mut child = Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .args(db.args())
        .arg("console")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"/actor WIPO\n")
        .unwrap();
    let piped = child.wait_with_output().unwrap();
    let piped = support::stdout(&piped);
    assert!(piped.contains("World Intellectual Property Organization (WIPO)"));
    assert!(!piped.contains('\x1b'), "{piped:?}");
    let asked = support::stdout(&support::atlasbot(&db.path, &["ask", "/actor WIPO"]));
    assert!(!asked.contains('\x1b'));
    let forced = support::stdout(&support::atlasbot(
        &db.path,
        &["ask", "--color", "always", "/actor WIPO"],
    ));
    assert!(sgr().is_match(&forced));
    assert_eq!(
        sgr().replace_all(&forced, ""),
        asked,
        "colour changes nothing else"
    );
    // CLICOLOR_FORCE colours even a pipe; NO_COLOR wins over it.
    let ask_with = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_atlasbot"));
        cmd.args(db.args()).args(["ask", "/actor WIPO"]);
        for v in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"] {
            cmd.env_remove(v);
        }
        cmd.envs(env.iter().copied());
        support::stdout(&cmd.output().unwrap())
    };
    assert!(sgr().is_match(&ask_with(&[("CLICOLOR_FORCE", "1")])));
    assert!(!sgr().is_match(&ask_with(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])));
}

#[test]
fn history_is_kept_in_the_users_data_directory_between_runs() {
    let db = ready_db();
    let data = tempfile::tempdir().unwrap();
    session(
        &db,
        data.path(),
        100,
        &[("NO_COLOR", "1")],
        &[],
        &["/define OEWG\r"],
    );
    let file = data.path().join("atlasbot/history");
    let kept = std::fs::read_to_string(&file).expect("a history file under XDG_DATA_HOME");
    assert!(kept.lines().any(|l| l == "/define OEWG"), "{kept}");
    // The next run recalls it with the Up arrow.
    let again = screen(&session(
        &db,
        data.path(),
        100,
        &[("NO_COLOR", "1")],
        &[],
        &["\x1b[A", "\r"],
    ));
    assert!(again.contains("> /define OEWG"), "{again}");
    assert!(again.contains("Open-Ended Working Group"), "{again}");
}

#[test]
fn a_reader_that_stops_early_ends_the_console_quietly() {
    // `atlasbot console < questions | head -1`: the pipe closes after the first line; the
    // console stops as `cat` would — exit 0, no panic on stderr.
    let db = ready_db();
    let mut child = Command::new(env!("CARGO_BIN_EXE_atlasbot"))
        .args(db.args())
        .arg("console")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{Read, Write};
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"/actor WIPO\n").unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    // More answers than a pipe holds, to a reader that is gone.
    let _ = stdin.write_all("/actor WIPO\n".repeat(200).as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?} {stderr}", out.status);
}
