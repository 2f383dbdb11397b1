//! `atlasbot bench commands`: latency of every lookup command (p50/p99) on the bundled atlas or
//! on the bundled atlas plus N synthetic actors, autocompletion over all names, and cold start
//! (a new database file to the first answer).

use std::time::{Duration, Instant};

use crate::atlas::rows::{ActorRow, Atlas, Origin, PassageRow, SectionKind, SectionRow};
use crate::commands::autocomplete;
use crate::commands::{self, Caller, CommandName, Context};
use crate::import::{self, DataDir};
use crate::store::Store;

/// The lines measured: each command, found and not found.
const LINES: &[&str] = &[
    "/actor WIPO",
    "/actor wrld intelectual property",
    "/actor UNODC",
    "/actor no such organisation anywhere",
    "/standard 62443",
    "/standard iso 27001",
    "/standard 27k1",
    "/who-works-on cybercrime",
    "/who-works-on AI",
    "/who-works-on capacity building page:2",
    "/document A/70/174",
    "/document right to privacy",
    "/define OEWG",
    "/topics",
    "/search quantum",
    "/help",
    // People's own words (#27): not topics, read through the relatives; plain questions.
    "/who-works-on kids safety online",
    "/who-works-on hackers demanding ransom",
    "/who-works-on weapons that decide on their own",
    "/document handbook of statistics",
    "/document Global Cybersecurity Outlok",
    "/who-works-on protectoin of chidlren online",
    "/who-works-on trademarks",
    "/ask who is doing something about kids' safety online?",
    "/ask what is WIPO?",
    "/ask what does ISO 27001 cover?",
    "/ask qui travaille sur la cybersécurité à Genève ?",
    "/ask how many members does ISO have?",
    "/ask when was UNICC founded?",
    "/document UNCTAD",
    "/document the report about 5G from the forum",
];

const PARTIALS: &[&str] = &[
    "w",
    "wor",
    "intel",
    "un",
    "geneva in",
    "digital ethics obs",
    "zz",
];

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// Words synthetic names are built from: where (or how widely) the body works, what it is,
/// and what it works on.
const SCOPES: &[&str] = &[
    "Geneva",
    "Global",
    "International",
    "Regional",
    "Swiss",
    "European",
    "African",
    "Asian",
    "Digital",
    "Open",
];
const BODIES: &[&str] = &[
    "Institute",
    "Centre",
    "Foundation",
    "Alliance",
    "Network",
    "Council",
    "Forum",
    "Observatory",
    "Lab",
    "Initiative",
];
const SUBJECTS: &[&str] = &[
    "Cyber Policy",
    "Data Governance",
    "Internet Rights",
    "Quantum Security",
    "AI Ethics",
    "Trade Technology",
    "Digital Health",
    "Climate Data",
    "Online Safety",
    "Digital Identity",
];

/// Adds `n` synthetic organisations: names built from common words (so that fuzzy matching has
/// many near neighbours), an acronym each, and for one in ten a profile with an issue section
/// and two paragraphs (so that topics and full-text search grow too).
pub fn add_synthetic_actors(atlas: &mut Atlas, n: usize) {
    let topics = atlas.topics.len().max(1);
    for i in 0..n {
        let (a, b, c) = (
            SCOPES[i % 10],
            BODIES[(i / 10) % 10],
            SUBJECTS[(i / 100) % 10],
        );
        let name = format!("{a} {b} for {c} {i}");
        let acronym = format!(
            "{}{}{}{}",
            &a[..1],
            &b[..1],
            c.split(' ').map(|w| &w[..1]).collect::<String>(),
            i
        );
        let idx = atlas.actors.len();
        let profiled = i % 10 == 0;
        atlas
            .actors
            .push(synthetic_actor(i, &name, &acronym, c, profiled));
        for (n, kind) in [(name.clone(), "name"), (acronym, "acronym")] {
            atlas
                .actor_names
                .push((idx, n.clone(), crate::search::normalize::name_key(&n), kind));
        }
        if profiled {
            add_synthetic_profile(atlas, idx, i, &name, c, i % topics);
        }
    }
    atlas.data_hash = format!("synthetic-{n}");
}

/// The `i`th synthetic organisation's row, working on `subject`.
fn synthetic_actor(i: usize, name: &str, acronym: &str, subject: &str, profiled: bool) -> ActorRow {
    ActorRow {
        slug: format!("synthetic-{i}"),
        kind: if profiled { "profiled" } else { "mentioned" },
        name: name.to_string(),
        full_name: Some(name.to_string()),
        acronym: Some(acronym.to_string()),
        founded: Some(1950 + (i % 70) as i64),
        founded_evidence: Some("synthetic".into()),
        address: Some(format!("Rue {i}, 1211 Geneva, Switzerland")),
        website: Some(format!("https://example{i}.org/")),
        stakeholder_group: Some("NGOs and associations".into()),
        summary: Some(format!(
            "The {name} works on {} in Geneva.",
            subject.to_lowercase()
        )),
        description: Some(format!(
            "The {name} works on {} in Geneva.",
            subject.to_lowercase()
        )),
        activities: None,
        tools_note: None,
        parent: None,
        provenance: "synthetic".into(),
    }
}

/// A profile for actor `idx`: an issue section under `topic` with two paragraphs.
fn add_synthetic_profile(
    atlas: &mut Atlas,
    idx: usize,
    i: usize,
    name: &str,
    subject: &str,
    topic: usize,
) {
    let section = atlas.sections.len();
    atlas.sections.push(SectionRow {
        actor: idx,
        parent: None,
        kind: SectionKind::Issue,
        heading: Some(atlas.topics[topic].1.clone()),
        tagline: None,
        position: 0,
        origin: Origin::new("synthetic", i),
    });
    atlas.section_topics.push((section, topic));
    for (pos, text) in [
        format!("The {name} supports capacity building on {} and publishes research on cybersecurity norms.", atlas.topics[topic].1.to_lowercase()),
        format!("Its programme on {} brings together governments, companies and civil society in Geneva.", subject.to_lowercase()),
    ]
    .into_iter()
    .enumerate()
    {
        atlas.passages.push(PassageRow {
            actor: Some(idx),
            section: Some(section),
            document: None,
            position: pos,
            search_text: crate::search::normalize::search_copy(&text),
            text,
            truncated: false,
            tool: false,
            origin: Origin::new("synthetic", i),
        });
    }
}

/// Resident memory of this process, in MB (Linux; 0 elsewhere).
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |pages| pages * 4096.0 / 1e6)
}

fn mean(samples: &[Duration]) -> Duration {
    samples.iter().sum::<Duration>() / samples.len().max(1) as u32
}

/// Times `f` `iterations` times after 3 warm-up runs.
async fn sample<F, Fut, T>(iterations: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for _ in 0..3 {
        std::hint::black_box(f().await);
    }
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        std::hint::black_box(f().await);
        samples.push(t.elapsed());
    }
    samples
}

/// The database the bench answers from: the bundled atlas, or it plus `actors` synthetic ones.
async fn bench_store(db: &std::path::Path, actors: usize) -> anyhow::Result<Store> {
    if actors == 0 {
        return crate::database::open_store(db).await;
    }
    let store = Store::open(db).await?;
    let (mut atlas, _) =
        import::read_atlas(&DataDir::Bundled).map_err(|p| anyhow::anyhow!("{}", p[0]))?;
    add_synthetic_actors(&mut atlas, actors);
    store.replace_atlas(&atlas, "bench").await?;
    Ok(store)
}

pub async fn run(actors: usize, iterations: usize, only: &[String]) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let db = tmp.path().join("bench.db");
    let store = bench_store(&db, actors).await?;
    let before = rss_mb();
    let started = Instant::now();
    let ctx = Context::new(store).await?;
    let atlas = ctx.atlas().await?;
    println!(
        "atlas read model: {} names, {} passages; loaded and indexed in {} ms; resident memory {:.0} MB → {:.0} MB",
        atlas.actors.len(),
        atlas.counts().iter().find(|(t, _)| *t == "passages").map_or(0, |(_, n)| *n),
        started.elapsed().as_millis(),
        before,
        rss_mb()
    );
    let floor_mean = floor(&ctx, iterations).await;
    let caller = Caller::console();
    let lines: Vec<&str> = if only.is_empty() {
        LINES.to_vec()
    } else {
        only.iter().map(String::as_str).collect()
    };
    each_line(&ctx, &caller, &lines, iterations, floor_mean).await;
    if !only.is_empty() {
        return Ok(());
    }
    every_topic(&ctx, &caller, &atlas, iterations).await;
    autocompletion(&atlas, iterations);
    console_tab(&atlas, iterations);
    if actors == 0 {
        start_up(tmp.path(), &caller).await?;
    }
    Ok(())
}

/// The floor: one raw FTS5 BM25 query on the same atlas file, through the same driver.
/// Returns its mean, the unit of the command table's last column.
async fn floor(ctx: &Context, iterations: usize) -> Duration {
    let mut floor = sample(iterations, || ctx.store.fts5_query("quantum", 10)).await;
    let floor_mean = mean(&floor);
    println!(
        "floor — one raw FTS5 query (`… MATCH 'quantum' ORDER BY bm25 LIMIT 10`, via sqlx): mean {}, p50 {}, p99 {}",
        us(floor_mean),
        us(percentile(&mut floor, 0.5)),
        us(percentile(&mut floor, 0.99))
    );
    floor_mean
}

/// The table of every measured line, against the floor.
async fn each_line(
    ctx: &Context,
    caller: &Caller,
    lines: &[&str],
    iterations: usize,
    floor_mean: Duration,
) {
    println!();
    println!("| command | mean | p50 | p99 | mean ÷ floor |");
    println!("|---|---:|---:|---:|---:|");
    for &line in lines {
        let mut samples = sample(iterations, || commands::answer(ctx, caller, line)).await;
        let m = mean(&samples);
        println!(
            "| `{line}` | {} | {} | {} | {:.2} |",
            us(m),
            us(percentile(&mut samples, 0.5)),
            us(percentile(&mut samples, 0.99)),
            m.as_secs_f64() / floor_mean.as_secs_f64()
        );
    }
}

/// `/actor name:` autocompletion of each partial name.
fn autocompletion(atlas: &crate::atlas::Atlas, iterations: usize) {
    println!();
    println!("| autocomplete `/actor name:` | p50 | p99 |");
    println!("|---|---:|---:|");
    for partial in PARTIALS {
        let mut samples = Vec::with_capacity(iterations * 5);
        for _ in 0..iterations * 5 {
            let t = Instant::now();
            let choices = autocomplete::complete(atlas, CommandName::Actor, "name", partial);
            samples.push(t.elapsed());
            std::hint::black_box(choices);
        }
        println!(
            "| `{partial}` | {} | {} |",
            us(percentile(&mut samples, 0.5)),
            us(percentile(&mut samples, 0.99))
        );
    }
}

/// `/who-works-on` for every topic of the taxonomy: the slowest topic's p99 (the target is
/// for every topic, not the mix).
async fn every_topic(
    ctx: &Context,
    caller: &Caller,
    atlas: &crate::atlas::Atlas,
    iterations: usize,
) {
    let mut worst: Vec<(Duration, Duration, String)> = Vec::new();
    for t in &atlas.topics {
        let line = format!("/who-works-on {}", t.name);
        let mut samples = sample(iterations, || commands::answer(ctx, caller, &line)).await;
        let p50 = percentile(&mut samples, 0.5);
        worst.push((percentile(&mut samples, 0.99), p50, t.name.clone()));
    }
    worst.sort_by_key(|w| std::cmp::Reverse(w.0));
    println!();
    println!(
        "| `/who-works-on` every topic ({}), slowest first | p50 | p99 |",
        worst.len()
    );
    println!("|---|---:|---:|");
    for (p99, p50, name) in worst.iter().take(3) {
        println!("| {name} | {} | {} |", us(*p50), us(*p99));
    }
}

/// Lines as typed at the console before a Tab (`autocomplete::complete_line`).
const TYPED: &[&str] = &[
    "/act",
    "/actor wor",
    "/actor intel",
    "/event add wh",
    "/follow topic:cyb",
    "/who-works-on capacity b",
];

/// What one Tab costs at the console: the whole line read, then the same autocomplete.
fn console_tab(atlas: &crate::atlas::Atlas, iterations: usize) {
    println!();
    println!("| console Tab (`complete_line`) | p50 | p99 |");
    println!("|---|---:|---:|");
    for line in TYPED {
        let mut samples = Vec::with_capacity(iterations * 5);
        for _ in 0..iterations * 5 {
            let t = Instant::now();
            let done = autocomplete::complete_line(atlas, line);
            samples.push(t.elapsed());
            std::hint::black_box(done);
        }
        println!(
            "| `{line}` | {} | {} |",
            us(percentile(&mut samples, 0.5)),
            us(percentile(&mut samples, 0.99))
        );
    }
}

/// Start-up to the first answer: with the atlas already in the database (every start but the
/// first), and from a new database file (migrations and the bundled import first).
async fn start_up(dir: &std::path::Path, caller: &Caller) -> anyhow::Result<()> {
    let (mut warm, mut cold) = (Vec::new(), Vec::new());
    for i in 0..5 {
        let path = dir.join(format!("cold-{i}.db"));
        for (samples, what) in [(&mut cold, "new"), (&mut warm, "existing")] {
            let t = Instant::now();
            let store = crate::database::open_store(&path).await?;
            let ctx = Context::new(store.clone()).await?;
            std::hint::black_box(commands::answer(&ctx, caller, "/actor WIPO").await);
            samples.push(t.elapsed());
            store.close().await;
            let _ = what;
        }
    }
    println!();
    println!(
        "start-up to the first answer (open, migrations checked, atlas loaded and indexed, /actor WIPO): median {} ms, max {} ms",
        percentile(&mut warm, 0.5).as_millis(),
        percentile(&mut warm, 1.0).as_millis()
    );
    println!(
        "first start on a new database file (+ the bundled import): median {} ms, max {} ms",
        percentile(&mut cold, 0.5).as_millis(),
        percentile(&mut cold, 1.0).as_millis()
    );
    Ok(())
}
