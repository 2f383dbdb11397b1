//! The shape of the code, checked by reading src/: dependencies point one way, every module
//! says what it is for, the bundled data is complete, and no secret is committed.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Source of the files under src/<module> (a directory or a file).
fn module_source(module: &str) -> Vec<(PathBuf, String)> {
    let dir = src().join(module);
    let files = if dir.is_dir() {
        rust_files(&dir)
    } else {
        vec![src().join(format!("{module}.rs"))]
    };
    files
        .into_iter()
        .map(|f| (f.clone(), std::fs::read_to_string(&f).unwrap()))
        .collect()
}

fn assert_no_use(module: &str, forbidden: &[&str]) {
    for (file, text) in module_source(module) {
        for f in forbidden {
            assert!(
                !text.contains(&format!("crate::{f}")),
                "{} must not depend on {f}",
                file.display()
            );
        }
    }
}

#[test]
fn dependencies_point_one_way() {
    // platform → commands → store; commands → reply ← render ← platform.
    assert_no_use("commands", &["platform", "render"]);
    assert_no_use("store", &["commands", "reply", "render", "platform"]);
    assert_no_use("reply", &["store", "commands", "render", "platform"]);
    assert_no_use("render", &["store", "commands", "platform"]);
    assert_no_use(
        "search",
        &["store", "commands", "reply", "render", "platform"],
    );
    assert_no_use("import", &["commands", "reply", "render", "platform"]);
}

#[test]
fn sql_lives_in_the_store() {
    for file in rust_files(&src()) {
        let rel = file
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("store") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("sqlx::query"),
            "{rel}: SQL belongs in store/"
        );
    }
}

#[test]
fn every_module_opens_with_a_doc_line() {
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} must open with a //! line saying what it is for",
            file.display()
        );
    }
}

#[test]
fn every_data_file_is_bundled_into_the_binary() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&data)
        .unwrap()
        .chain(std::fs::read_dir(data.join("sources")).unwrap())
    {
        let path = entry.unwrap().path();
        let name = path
            .strip_prefix(&data)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if path.is_file() && (name.ends_with(".toml") || name.ends_with(".txt")) {
            files.push(name);
        }
    }
    files.sort();
    let mut bundled: Vec<String> = atlasbot::import::DataDir::bundled_files()
        .map(String::from)
        .collect();
    bundled.sort();
    assert_eq!(
        files, bundled,
        "src/import/mod.rs BUNDLED must list every data file"
    );
}

#[test]
fn no_secrets_or_databases_are_committed() {
    let out = std::process::Command::new("git")
        .args(["ls-files"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    let Ok(out) = out else { return }; // not a git checkout (a source tarball): nothing to check
    let files = String::from_utf8_lossy(&out.stdout);
    for f in files.lines() {
        assert!(
            !f.ends_with(".db") && !f.ends_with(".db-wal") && f != ".env",
            "{f} must not be committed"
        );
    }
}

#[test]
fn every_migration_file_is_embedded_in_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for (dir, set) in [
        ("atlas", atlasbot::store::migrations::ATLAS),
        ("runtime", atlasbot::store::migrations::RUNTIME),
        ("postgres", atlasbot::store::migrations::POSTGRES),
    ] {
        let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| format!("{dir}/{}", e.unwrap().file_name().to_string_lossy()))
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let embedded: Vec<String> = set.iter().map(|(_, file, _)| file.to_string()).collect();
        assert_eq!(
            files, embedded,
            "src/store/migrations.rs must list every file in migrations/{dir}/, in order"
        );
        for (_, file, sql) in set {
            assert_eq!(
                *sql,
                std::fs::read_to_string(root.join(file)).unwrap(),
                "{file}"
            );
        }
    }
    let loose: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    assert!(
        loose.is_empty(),
        "a migration belongs to atlas/ or runtime/: {loose:?}"
    );
}

/// The module of a source file: "commands::actor" for src/commands/actor.rs, "commands" for
/// src/commands/mod.rs.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The modules a file refers to (`crate::a::b`, `super::b`), resolved to known modules.
fn references(file: &Path, known: &std::collections::HashSet<String>) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let module = module_of(file);
    // `super` is the module's parent: a for a/b.rs, the crate for a/mod.rs (module a).
    let mut parent: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
    parent.pop();
    let re = regex::Regex::new(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)").unwrap();
    let mut out = Vec::new();
    for c in re.captures_iter(&text) {
        let tail: Vec<&str> = c[2].split("::").filter(|p| !p.is_empty()).collect();
        let mut path: Vec<&str> = if &c[1] == "crate" {
            vec![]
        } else {
            parent.clone()
        };
        let mut best = None;
        for seg in tail {
            path.push(seg);
            let candidate = path.join("::");
            if known.contains(&candidate) {
                best = Some(candidate);
            }
        }
        if let Some(b) = best.filter(|b| *b != module) {
            out.push(b);
        }
    }
    out
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let files = rust_files(&src());
    let known: std::collections::HashSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut edges = std::collections::HashSet::new();
    for f in &files {
        for to in references(f, &known) {
            edges.insert((module_of(f), to));
        }
    }
    let nested =
        |a: &str, b: &str| b.starts_with(&format!("{a}::")) || a.starts_with(&format!("{b}::"));
    let mut cycles: Vec<String> = edges
        .iter()
        .filter(|(a, b)| a < b && !nested(a, b) && edges.contains(&(b.clone(), a.clone())))
        .map(|(a, b)| format!("{a} ↔ {b}"))
        .collect();
    cycles.sort();
    assert!(
        cycles.is_empty(),
        "shared pieces belong below both: {cycles:?}"
    );
}

/// The text of every source file whose module is (or is inside) `prefix`, or is not.
fn files_where(inside: bool, prefix: &str) -> Vec<(String, String)> {
    rust_files(&src())
        .into_iter()
        .filter(|f| {
            let m = module_of(f);
            (m == prefix || m.starts_with(&format!("{prefix}::"))) == inside
        })
        .map(|f| (module_of(&f), std::fs::read_to_string(&f).unwrap()))
        .collect()
}

#[test]
fn no_sqlite_types_outside_the_store() {
    let sqlite = regex::Regex::new(r"\bsqlx::|\bSqlite[A-Z]\w*|\bSqlitePool\b").unwrap();
    for (module, text) in files_where(false, "store") {
        assert!(
            !sqlite.is_match(&text),
            "{module}: SQLite and sqlx types stay inside store/ (found {:?})",
            sqlite.find(&text).map(|m| m.as_str())
        );
    }
}

#[test]
fn the_store_does_not_import_the_importer() {
    let files = rust_files(&src());
    let known: std::collections::HashSet<String> = files.iter().map(|f| module_of(f)).collect();
    for f in files.iter().filter(|f| module_of(f).starts_with("store")) {
        let to_import: Vec<String> = references(f, &known)
            .into_iter()
            .filter(|m| m == "import" || m.starts_with("import::"))
            .collect();
        assert!(
            to_import.is_empty(),
            "{}: the store writes and reads atlas rows (atlas::rows); deciding to import is app's: {to_import:?}",
            module_of(f)
        );
    }
}

#[test]
fn commands_do_not_branch_on_platform() {
    let branch = regex::Regex::new(r"caller\.platform\b|\bPlatform::\w+").unwrap();
    for (module, text) in files_where(true, "commands") {
        // `Caller::console()` names its own platform; nothing in the core decides by it.
        let text = text.replace("platform: Platform::Console,", "");
        assert!(
            !branch.is_match(&text),
            "{module}: the core never asks which platform it runs on (found {:?}); adapters translate",
            branch.find(&text).map(|m| m.as_str())
        );
    }
}

#[test]
fn lookup_commands_answer_from_memory() {
    for module in [
        "commands::actor",
        "commands::standard",
        "commands::who_works_on",
        "commands::document",
        "commands::define",
        "commands::topics",
        "commands::search",
    ] {
        let (_, text) = files_where(true, module)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{module} exists"));
        assert!(
            !text.contains(".await") && !text.contains("ctx.store"),
            "{module}: a lookup answers from the atlas in memory, with no query and no await"
        );
    }
}
