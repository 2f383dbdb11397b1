//! What the SQL of SQLite and PostgreSQL really differs in, and how one statement is run on
//! whichever of them holds the runtime state. Every store module that touches the runtime
//! state writes its SQL once (with `$n` placeholders, which SQLite accepts too) inside
//! `on_runtime!`; the few differences are fields of `Dialect`.

/// Runs `$body` with `$pool` bound to whichever database holds the runtime state: the same
/// tokens compiled once per backend, so the SQL and binds are written once.
/// `$begin` is how that database starts a transaction that reads then writes: on SQLite with
/// the write lock taken at once (see `Store::write_tx`).
macro_rules! on_runtime {
    ($store:expr, dialect |$pool:ident, $d:ident| $body:expr) => {
        match &$store.pg {
            Some(pg) => {
                let $pool = &pg.pool;
                let $d = $crate::store::dialect::POSTGRES;
                $body
            }
            None => {
                let $pool = &$store.pool;
                let $d = $crate::store::dialect::SQLITE;
                $body
            }
        }
    };
    ($store:expr, |$pool:ident| $body:expr) => {
        $crate::store::dialect::on_runtime!($store, |$pool, _begin| $body)
    };
    ($store:expr, |$pool:ident, $begin:ident| $body:expr) => {
        match &$store.pg {
            Some(pg) => {
                let $pool = &pg.pool;
                let $begin = "BEGIN";
                $body
            }
            None => {
                let $pool = &$store.pool;
                let $begin = "BEGIN IMMEDIATE";
                $body
            }
        }
    };
}
pub(crate) use on_runtime;

/// Runs one statement on the runtime database with `$bind`s bound in order: the number of rows
/// it changed. The Rust around a statement (binds, run, count) is written once, here.
macro_rules! execute {
    ($store:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::store::dialect::on_runtime!($store, |pool| sqlx::query($sql)
            $(.bind($bind))*
            .execute(pool)
            .await?
            .rows_affected())
    };
}
pub(crate) use execute;

/// Reads with one statement on the runtime database, `$bind`s bound in order: `$query` is
/// `query_as` (rows as tuples or `row!` structs) or `query_scalar` (one column), `$fetch` is
/// `fetch_one`, `fetch_optional` or `fetch_all`.
macro_rules! fetch {
    ($store:expr, $query:ident . $fetch:ident, $sql:expr $(, $bind:expr)* $(,)?) => {
        $crate::store::dialect::on_runtime!($store, |pool| sqlx::$query($sql)
            $(.bind($bind))*
            .$fetch(pool)
            .await?)
    };
}
pub(crate) use fetch;

/// What the SQL of the two databases really differs in, for the few statements that need it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dialect {
    /// How to start a transaction that reads then writes (SQLite: take the write lock now).
    pub begin: &'static str,
    /// Locks the rows a read inside a transaction will write (SQLite: the write lock
    /// `begin` took already covers them).
    pub for_update: &'static str,
    /// Takes rows nobody else is taking right now, passing over the locked ones, so that
    /// schedulers in several processes claim disjoint batches (SQLite: one writer at a time).
    pub skip_locked: &'static str,
    /// The position of one string in another, `find(haystack, needle)`: SQLite's `instr`,
    /// PostgreSQL's `strpos`.
    pub find: &'static str,
}

pub(crate) const SQLITE: Dialect = Dialect {
    begin: "BEGIN IMMEDIATE",
    for_update: "",
    skip_locked: "",
    find: "instr",
};

pub(crate) const POSTGRES: Dialect = Dialect {
    begin: "BEGIN",
    for_update: " FOR UPDATE",
    skip_locked: " FOR UPDATE SKIP LOCKED",
    find: "strpos",
};

/// `rows` rows of `width` numbered placeholders each, and `tail` after them:
/// "($1, $2, 'pending'), ($3, $4, 'pending')". Only counts are spliced in, never values.
pub(crate) fn numbered_rows(rows: usize, width: usize, tail: &str) -> String {
    (0..rows)
        .map(|r| {
            let mut cells: Vec<String> =
                (1..=width).map(|c| format!("${}", r * width + c)).collect();
            cells.push(tail.to_string());
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `n` numbered placeholders from `$first`: "$3, $4, $5" (a list bound value by value).
pub(crate) fn numbered_list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
