//! One schema for the runtime state, written for two databases (#28): the SQLite migrations
//! (`migrations/runtime/`) and the PostgreSQL ones (`migrations/postgres/`), each applied to a
//! fresh database, describe the same tables, columns (kind and nullability), keys and indexes.
//! A change made to one set only fails here, naming what differs. The few differences that
//! are the dialects' own are listed below with their reason; anything else is drift.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use crate::support;

/// A table as both databases can describe it.
#[derive(Debug, Default, PartialEq)]
struct Table {
    /// Column → (kind, nullable).
    columns: BTreeMap<String, (&'static str, bool)>,
    /// Column lists that are unique (the primary key among them).
    unique: BTreeSet<Vec<String>>,
    /// Column lists of the other indexes.
    indexed: BTreeSet<Vec<String>>,
}

/// Tables one database has and the other need not, and why.
const OWN_TABLES: &[(&str, &str)] = &[
    // sqlx's own bookkeeping, per database.
    ("_sqlx_migrations", "both"),
    // Interactions already answered, shared by endpoint replicas on one PostgreSQL; a SQLite
    // deployment is one process, which remembers them in memory.
    ("seen_interactions", "PostgreSQL: replicas share it"),
];

/// Text or a number: the kinds the runtime state uses. (Booleans are INTEGER on SQLite and
/// BOOLEAN on PostgreSQL: both bind a Rust bool; identities are INTEGER/BIGINT.)
fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("char") || t.contains("text") {
        "text"
    } else if t.contains("int") || t.contains("bool") {
        "number"
    } else {
        "other"
    }
}

async fn sqlite_schema() -> BTreeMap<String, Table> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    atlasbot::store::migrations::runtime()
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for name in names {
        let mut t = Table::default();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for r in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA table_info({name})")))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            let col: String = r.get("name");
            let declared: String = r.get("type");
            let notnull: i64 = r.get("notnull");
            let pk_at: i64 = r.get("pk");
            if pk_at > 0 {
                pk.push((pk_at, col.clone()));
            }
            t.columns
                .insert(col, (kind(&declared), notnull == 0 && pk_at == 0));
        }
        pk.sort();
        if !pk.is_empty() {
            t.unique.insert(pk.into_iter().map(|(_, c)| c).collect());
        }
        for r in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA index_list({name})")))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            let index: String = r.get("name");
            let unique: i64 = r.get("unique");
            let mut cols: Vec<(i64, String)> = Vec::new();
            for c in sqlx::query(sqlx::AssertSqlSafe(format!("PRAGMA index_info({index})")))
                .fetch_all(&pool)
                .await
                .unwrap()
            {
                cols.push((c.get("seqno"), c.get("name")));
            }
            cols.sort();
            let cols: Vec<String> = cols.into_iter().map(|(_, c)| c).collect();
            if unique == 1 {
                t.unique.insert(cols);
            } else {
                t.indexed.insert(cols);
            }
        }
        out.insert(name, t);
    }
    out
}

async fn postgres_schema() -> BTreeMap<String, Table> {
    let url = support::fresh_postgres_database("atlasbot_schema_check");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    atlasbot::store::migrations::postgres()
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let mut out: BTreeMap<String, Table> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS d,
                is_nullable::text AS n
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let (t, c, d, n): (String, String, String, String) =
            (r.get("t"), r.get("c"), r.get("d"), r.get("n"));
        out.entry(t)
            .or_default()
            .columns
            .insert(c, (kind(&d), n == "YES"));
    }
    // Every index with its columns in order, unique or not (keys and UNIQUE constraints are
    // indexes on PostgreSQL).
    for r in sqlx::query(
        "SELECT t.relname::text AS t, ix.indisunique AS u,
                array_agg(a.attname::text ORDER BY k.ord) AS cols
         FROM pg_index ix
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace ns ON ns.oid = t.relnamespace AND ns.nspname = 'public'
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
         GROUP BY ix.indexrelid, t.relname, ix.indisunique",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let (t, unique, cols): (String, bool, Vec<String>) =
            (r.get("t"), r.get("u"), r.get("cols"));
        let table = out.entry(t).or_default();
        if unique {
            table.unique.insert(cols);
        } else {
            table.indexed.insert(cols);
        }
    }
    pool.close().await;
    out
}

#[tokio::test]
async fn both_migration_sets_describe_the_same_runtime_schema() {
    let mut lite = sqlite_schema().await;
    let mut pg = postgres_schema().await;
    for (table, _) in OWN_TABLES {
        lite.remove(*table);
        pg.remove(*table);
    }
    // The comparison sees what it compares (a reading that found nothing would pass).
    for schema in [&lite, &pg] {
        assert!(schema.len() >= 8, "{:?}", schema.keys());
        let reminders = &schema["reminders"];
        assert!(reminders.columns.contains_key("lease_until"));
        assert!(reminders.unique.contains(&vec!["key".to_string()]));
        assert!(!reminders.indexed.is_empty());
    }
    let mut drift = Vec::new();
    let names: BTreeSet<&String> = lite.keys().chain(pg.keys()).collect();
    for name in names {
        match (lite.get(name), pg.get(name)) {
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => drift.push(format!(
                "table {name}:\n  SQLite:     {a:?}\n  PostgreSQL: {b:?}"
            )),
            (Some(_), None) => drift.push(format!("table {name}: only on SQLite")),
            (None, Some(_)) => drift.push(format!("table {name}: only on PostgreSQL")),
            (None, None) => {}
        }
    }
    assert!(
        drift.is_empty(),
        "the two runtime schemas differ:\n{}",
        drift.join("\n")
    );
}

/// The same story told to a store on SQLite and to one on PostgreSQL: what each call answers,
/// in order. One implementation serves both (`store::dialect`), so the transcripts are equal.
async fn transcript(store: &atlasbot::store::Store) -> Vec<String> {
    use atlasbot::domain::{Platform, SpaceId, Subject, Target};
    use atlasbot::events::Planned;
    use chrono::{Duration, TimeZone, Utc};
    let now = Utc.with_ymd_and_hms(2030, 3, 1, 9, 0, 0).unwrap();
    let space = SpaceId::console();
    let mut said = Vec::new();
    store.set_matrix_device("@bot:x", "DEV", now).await.unwrap();
    store
        .set_matrix_next_batch("@bot:x", "s42", now)
        .await
        .unwrap();
    said.push(format!(
        "{:?}",
        store.matrix_account("@bot:x").await.unwrap()
    ));
    for _ in 0..2 {
        let added = store.add_matrix_room("@bot:x", "!r:x", now).await.unwrap();
        said.push(format!("room added: {added}"));
    }
    let topic = Subject::Topic("cybersecurity".into());
    for _ in 0..2 {
        let followed = store.follow(&space, "ann", &topic, now).await.unwrap();
        said.push(format!("{followed:?}"));
    }
    let event = support::event_input("Study session", now + Duration::hours(2));
    let id = store
        .insert_event(&event, "same@atlasbot", now)
        .await
        .unwrap();
    let row = store.event(id).await.unwrap().unwrap();
    let occurrence = now + Duration::hours(2);
    let planned: Vec<Planned> = [60, 10]
        .into_iter()
        .map(|offset| Planned {
            key: format!("same-{offset}"),
            event_id: id,
            occurrence,
            offset_min: offset,
            target: Target::Space,
            due: occurrence - Duration::minutes(offset),
        })
        .collect();
    let written = store.replan(&row, &planned, occurrence).await.unwrap();
    said.push(format!("{written:?}"));
    let due = now + Duration::hours(1);
    let claimed = store
        .claim_due(due, 10, Platform::Console, "me", due + Duration::minutes(2))
        .await
        .unwrap();
    said.push(format!(
        "claimed {:?}",
        claimed.iter().map(|r| &r.key).collect::<Vec<_>>()
    ));
    said.push(format!(
        "followers {:?}",
        store.followers_of_event(id).await.unwrap()
    ));
    said
}

#[tokio::test]
async fn one_store_implementation_answers_alike_on_sqlite_and_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let lite = atlasbot::store::Store::open(&dir.path().join("s.db"))
        .await
        .unwrap();
    let pg = atlasbot::store::Store::open_at(&atlasbot::store::Location::Postgres {
        url: support::fresh_postgres_database("atlasbot_same_store"),
        atlas: dir.path().join("atlas.db"),
    })
    .await
    .unwrap();
    let (a, b) = (transcript(&lite).await, transcript(&pg).await);
    // It tells something: the answers differ from call to call, as the story says.
    assert!(a.iter().any(|s| s.contains("s42")), "{a:?}");
    assert_eq!(a[1..3], ["room added: true", "room added: false"]);
    assert!(a.iter().any(|s| s == "claimed [\"same-60\"]"), "{a:?}");
    assert_eq!(a, b, "SQLite and PostgreSQL answered differently");
}
