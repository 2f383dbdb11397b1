//! The console: `atlasbot ask "<line>"` answers one command; `atlasbot console` reads lines
//! from a terminal or a pipe. No network, no secrets. On a terminal: line editing, Tab
//! completion from the core's autocomplete (commands, options, names), history kept in a file
//! under the user's data directory, and answers word-wrapped to the terminal's width and
//! coloured (by the terminal conventions: `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`, `TERM=dumb`;
//! or `--color`). Piped, the output is plain text (unless `CLICOLOR_FORCE`).
//!
//! Contract relied on by scripts: answers (including "not found") exit 0, usage errors 2,
//! failures on our side 1; stdout carries only answers, logs go to stderr.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::commands::{self, Caller, Context};
use crate::error::CommandError;
use crate::render;
use crate::reply::{Reply, Tone};
use crate::scheduler::{Delivery, DeliveryError, Outbox};

/// Reminders on the console: a line on stdout, marked with the reminder's key — the console's
/// idempotency handle (a reader seeing a key twice after a crash knows it is one reminder).
pub struct ConsoleOutbox {
    pub display: Display,
}

impl Outbox for ConsoleOutbox {
    fn deliver<'a>(
        &'a self,
        d: &'a Delivery,
    ) -> Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>> {
        Box::pin(async move {
            let head = format!("[reminder {} → {}]\n", d.key, d.target);
            let text = format!(
                "{}{}\n",
                render::plain::terminal_safe(&head),
                self.display.text(&d.reply)
            );
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .map_err(|e| DeliveryError::Temporary(e.to_string()))
        })
    }
}

/// Starts the scheduler for the console space; returns the shutdown switch and the task.
fn start_scheduler(
    ctx: &Context,
    display: Display,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = super::start_reminders(
        ctx,
        crate::domain::Platform::Console,
        Arc::new(ConsoleOutbox { display }),
        rx,
    );
    (tx, task)
}

pub fn exit_code(reply: &Reply) -> ExitCode {
    match reply.tone {
        Tone::Answer | Tone::NotFound => ExitCode::SUCCESS,
        Tone::Usage | Tone::Refusal => ExitCode::from(2),
        Tone::Failure => ExitCode::FAILURE,
    }
}

/// How answers are shown: JSON, or text — wrapped and coloured on a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Display {
    pub json: bool,
    pub color: bool,
    /// Whether stdout is a terminal (then answers are wrapped to its width).
    pub terminal: bool,
}

/// Whether text written to `stream` is coloured: `always` and `never` are what they say; `auto`
/// follows the conventions (read by `anstyle-query`, clap's) — never under `NO_COLOR`, even a
/// pipe under `CLICOLOR_FORCE`, never under `CLICOLOR=0`, else only a terminal whose `TERM`
/// is not `dumb`. Not `anstream`'s own choice: it colours a dumb terminal whenever `CI` is set,
/// which is how CI saw escapes that a person on that terminal would. The answers (stdout) and
/// the logs (stderr) are decided alike.
pub fn colours(choice: crate::config::ColorChoice, stream: &impl std::io::IsTerminal) -> bool {
    use crate::config::ColorChoice;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => auto_colours(stream.is_terminal()),
    }
}

fn auto_colours(terminal: bool) -> bool {
    if anstyle_query::no_color() {
        return false;
    }
    if anstyle_query::clicolor_force() {
        return true;
    }
    if anstyle_query::clicolor() == Some(false) {
        return false;
    }
    terminal && anstyle_query::term_supports_color()
}

impl Display {
    /// Answers coloured as [`colours`] decides for stdout (never as JSON).
    pub fn new(json: bool, color: crate::config::ColorChoice) -> Display {
        Display {
            json,
            color: colours(color, &std::io::stdout()) && !json,
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// The reply as text for this display: the terminal's width is read each time (it may
    /// have been resized).
    pub fn text(&self, reply: &Reply) -> String {
        let look = render::plain::Look {
            width: self.terminal.then(terminal_width).flatten(),
            color: self.color,
        };
        let out = render::plain::render_with(reply, look);
        // User text (titles, descriptions) reaches a terminal here: no control sequences
        // (the coloured renderer has made its pieces safe before adding its own).
        if self.color {
            out
        } else {
            render::plain::terminal_safe(&out)
        }
    }
}

/// Columns of the terminal on stdout (`terminal_size`), or `$COLUMNS`; None if neither says.
fn terminal_width() -> Option<usize> {
    let columns = match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((terminal_size::Width(w), _)) if w > 0 => Some(usize::from(w)),
        _ => std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok()),
    };
    columns.filter(|c| (20..=1000).contains(c))
}

/// Prints the answer (and a blank line after it, between a console's answers). False when
/// stdout is gone (`| head` has read enough): the console then stops, as `cat` would — never
/// a panic.
fn print(reply: &Reply, display: Display, blank_line: bool) -> bool {
    let mut reply = reply.clone();
    // In JSON the file is a string, escaped like any other: intact as it is.
    if !display.json {
        save_unsaved_attachment(&mut reply);
    }
    write_out(&reply, display, if blank_line { "\n" } else { "" }).is_ok()
}

fn write_out(reply: &Reply, display: Display, after: &str) -> std::io::Result<()> {
    let out = if display.json {
        render::plain::terminal_safe(
            &(serde_json::to_string_pretty(reply).expect("a reply serialises") + "\n"),
        )
    } else {
        display.text(reply)
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.write_all(after.as_bytes())?;
    stdout.flush()
}

/// A file the reply carries (an `/event export`) reaches the person intact: never through
/// the terminal's filter, which would turn every CR of an iCalendar file into U+FFFD. Saved
/// to a file of its name in the current directory (never over an existing one), whose path
/// the reply then gives.
fn save_unsaved_attachment(reply: &mut Reply) {
    let Some(file) = &reply.attachment else {
        return;
    };
    let path = free_path(&file.filename);
    save_attachment(reply, &path);
}

/// `name` in the current directory, or `stem-2.ext`, `stem-3.ext`, … if it exists.
fn free_path(name: &str) -> String {
    // Only the file name a reply gives, never a path it might smuggle in.
    let name = std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .filter(|n| !n.starts_with('.'))
        .unwrap_or_else(|| "attachment.txt".into());
    let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, "txt"));
    (1..1000)
        .map(|n| match n {
            1 => format!("{stem}.{ext}"),
            n => format!("{stem}-{n}.{ext}"),
        })
        .find(|p| !std::path::Path::new(p).exists())
        .unwrap_or_else(|| format!("{stem}-{}.{ext}", std::process::id()))
}

/// `atlasbot ask` into a pipe or a file: the reply's file, byte for byte, is all that goes to
/// stdout (`atlasbot ask "/event export" > events.ics`); the reply's words go to stderr.
fn print_ask(reply: &Reply, display: Display) {
    let Some(file) = reply
        .attachment
        .as_ref()
        .filter(|_| !display.terminal && !display.json)
    else {
        print(reply, display, false);
        return;
    };
    let mut words = reply.clone();
    words.attachment = None;
    let text = render::plain::terminal_safe(&display.text(&words));
    let _ = std::io::stderr().write_all(text.as_bytes());
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(file.content.as_bytes());
    let _ = stdout.flush();
}

pub async fn ask(ctx: &Context, line: &str, display: Display) -> ExitCode {
    let reply = answer_line(ctx, &Caller::console(), line).await;
    print_ask(&reply, display);
    exit_code(&reply)
}

pub async fn run(ctx: &Context, display: Display) -> ExitCode {
    let caller = Caller::console();
    // Started once, here — not per command, not on any "ready" signal.
    let (shutdown, reminders) = start_scheduler(ctx, display);
    let code = if std::io::stdin().is_terminal() {
        interactive(ctx, &caller, display).await
    } else {
        piped(ctx, &caller, display).await
    };
    let _ = shutdown.send(true);
    super::finish_reminders(reminders).await;
    code
}

/// Longest line read from a pipe, in bytes: a line over the core's character limit is
/// answered "too long" without being kept whole in memory (4 bytes per character at most).
const MAX_LINE_BYTES: usize = commands::MAX_INPUT_CHARS * 4 + 4;

/// One line of a pipe, read without keeping more than `MAX_LINE_BYTES` of it: `Some(Ok)` a
/// line (invalid UTF-8 replaced, never a reason to stop), `Some(Err(n))` a line of `n` bytes
/// too long to read, `None` at the end of input.
async fn next_line<R>(input: &mut R) -> Option<Result<String, usize>>
where
    R: tokio::io::AsyncBufRead + Unpin,
{
    use tokio::io::AsyncBufReadExt;
    let mut line = Vec::new();
    let mut total = 0usize;
    loop {
        let buf = match input.fill_buf().await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read standard input");
                return None;
            }
        };
        if buf.is_empty() {
            return (total > 0).then(|| finish_line(line, total));
        }
        let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        total = total.saturating_add(chunk.len());
        if line.len() < MAX_LINE_BYTES {
            let room = MAX_LINE_BYTES - line.len();
            line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        let used = done.unwrap_or(buf.len());
        input.consume(used);
        if done.is_some() {
            return Some(finish_line(line, total.max(1)));
        }
    }
}

fn finish_line(line: Vec<u8>, total: usize) -> Result<String, usize> {
    if total > MAX_LINE_BYTES {
        return Err(total);
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches('\r').to_string())
}

/// One line through the core, with the console's share of the work: a path typed for a file
/// option is read here (only the local user can name files on this machine) and its content
/// handed on; a `file:` path given to a command that answers with a file is where it is saved.
pub async fn answer_line(ctx: &Context, caller: &Caller, line: &str) -> Reply {
    let Some(bound) = commands::bind(line) else {
        return commands::answer(ctx, caller, line).await;
    };
    let files = bound.file_options();
    let save_to = bound
        .value("file")
        .filter(|_| files.is_empty())
        .map(str::to_string);
    if files.is_empty() && save_to.is_none() {
        return commands::answer(ctx, caller, line).await;
    }
    // Nobody reads a file for a command they may not run.
    if let Some(refusal) = commands::refusal(bound.command, bound.subcommand.as_deref(), caller) {
        return refusal;
    }
    let mut values = bound.values.clone();
    for (name, value) in values.iter_mut() {
        if files.contains(&name.as_str()) {
            match read_text_file(value) {
                Ok(content) => *value = content,
                Err(why) => {
                    let e = CommandError::usage(why, bound.file_example(name));
                    return crate::error::into_reply(e, line);
                }
            }
        }
    }
    let mut reply = commands::answer_values(
        ctx,
        caller,
        bound.command,
        bound.subcommand.as_deref(),
        &values,
    )
    .await;
    if let Some(path) = save_to {
        save_attachment(&mut reply, &path);
    }
    reply
}

/// A file named on the console: a regular file (not a device such as /dev/zero, not a FIFO
/// that would block), read no further than the size any file option accepts, UTF-8 text.
fn read_text_file(path: &str) -> Result<String, String> {
    use std::io::Read;
    let shown = crate::commands::shorten(path, 100);
    let cannot = |e: std::io::Error| format!("Cannot read {shown}: {e}");
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file."));
    }
    let cap = crate::events::ical::MAX_BYTES;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > cap {
        return Err(crate::events::ical::too_big(
            bytes.len().max(meta.len() as usize),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        // RFC 5545 §3.1: a folded line may split a character; unfolded, it is whole again.
        Err(e) => String::from_utf8(unfold_bytes(e.as_bytes()))
            .map_err(|_| format!("{shown} is not UTF-8 text.")),
    }
}

/// `bytes` with every line fold (a line break followed by a space or a tab) taken out.
fn unfold_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let fold = match &bytes[i..] {
            [b'\r', b'\n', b' ' | b'\t', ..] => 3,
            [b'\n', b' ' | b'\t', ..] => 2,
            _ => 0,
        };
        if fold > 0 {
            i += fold;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Writes the reply's file to `path` instead of printing it, and says so.
fn save_attachment(reply: &mut Reply, path: &str) {
    let Some(file) = reply.attachment.take() else {
        return;
    };
    let said = match std::fs::write(path, &file.content) {
        Ok(()) => format!(" Saved to {path}."),
        Err(e) => {
            reply.attachment = Some(file);
            format!(" Cannot write {}: {e}", crate::commands::shorten(path, 100))
        }
    };
    if let Some(summary) = reply.summary.as_mut() {
        summary.push(crate::reply::Span::Plain(said));
    }
}

/// Reads lines from a pipe without blocking the runtime, so reminders print while it waits.
async fn piped(ctx: &Context, caller: &Caller, display: Display) -> ExitCode {
    let mut input = tokio::io::BufReader::new(tokio::io::stdin());
    while let Some(line) = next_line(&mut input).await {
        let reply = match line {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => answer_line(ctx, caller, &line).await,
            // Longer than anything the core reads: the same answer, without the line.
            Err(_) => commands::too_long(),
        };
        if !print(&reply, display, true) {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// Most lines kept in the history file.
const HISTORY_LINES: usize = 1000;

/// The history file: `$XDG_DATA_HOME/atlasbot/history`, else
/// `~/.local/share/atlasbot/history` (the XDG convention); None if neither can be found.
pub fn history_path() -> Option<std::path::PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".local/share"))
        })?;
    Some(data.join("atlasbot").join("history"))
}

/// Tab completion for the line editor, from the core's autocomplete over the current atlas.
struct Completion {
    atlas: Arc<crate::atlas::Atlas>,
}

impl rustyline::completion::Completer for Completion {
    type Candidate = rustyline::completion::Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Self::Candidate>)> {
        let head = line.get(..pos).unwrap_or(line);
        let found = commands::autocomplete::complete_line(&self.atlas, head);
        let pairs = found
            .choices
            .into_iter()
            .map(|c| rustyline::completion::Pair {
                display: c.name,
                replacement: c.value,
            })
            .collect();
        Ok((found.start, pairs))
    }
}

impl rustyline::hint::Hinter for Completion {
    type Hint = String;
}
impl rustyline::highlight::Highlighter for Completion {}
impl rustyline::validate::Validator for Completion {}
impl rustyline::Helper for Completion {}

type Editor = rustyline::Editor<Completion, rustyline::history::FileHistory>;

/// The line editor: Tab lists completions (and fills in what they share), history from the
/// file, at most `HISTORY_LINES` kept.
fn editor(atlas: Arc<crate::atlas::Atlas>) -> rustyline::Result<Editor> {
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .max_history_size(HISTORY_LINES)?
        .history_ignore_dups(true)?
        .auto_add_history(false)
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(Completion { atlas }));
    if let Some(path) = history_path() {
        // A first run has no history yet; any other problem only costs the history.
        if let Err(e) = editor.load_history(&path) {
            if !matches!(&e, rustyline::error::ReadlineError::Io(io) if io.kind() == std::io::ErrorKind::NotFound)
            {
                tracing::warn!(error = %e, path = %path.display(), "cannot read the console history");
            }
        }
    }
    Ok(editor)
}

/// Saves the history (creating its directory); a failure is logged, never fatal.
fn save_history(editor: &mut Editor) {
    let Some(path) = history_path() else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = editor.save_history(&path) {
        tracing::warn!(error = %e, path = %path.display(), "cannot save the console history");
    }
}

async fn interactive(ctx: &Context, caller: &Caller, display: Display) -> ExitCode {
    let atlas = match ctx.atlas().await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("cannot read the atlas: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut editor = match editor(atlas) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start line editing: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("atlasbot console — type /help (Tab completes), or Ctrl-D to leave.");
    loop {
        // Completion answers from the atlas as it is now (another process may import anew).
        if let (Some(helper), Ok(atlas)) = (editor.helper_mut(), ctx.atlas().await) {
            helper.atlas = atlas;
        }
        // rustyline blocks; block_in_place lets the scheduler run on the other workers.
        match tokio::task::block_in_place(|| editor.readline("> ")) {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(line.as_str());
                save_history(&mut editor);
                let reply = answer_line(ctx, caller, &line).await;
                if !print(&reply, display, true) {
                    break;
                }
            }
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
    }
    ExitCode::SUCCESS
}
