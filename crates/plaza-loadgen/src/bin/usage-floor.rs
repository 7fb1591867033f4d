//! `usage-floor`: the floor `usage-load` is measured against — the same rows `plaza serve`
//! stores for the same workload, inserted straight into SQLite with nothing in between.
//!
//! It creates a fresh SQLite file holding Plaza's `usage_events` table (the DDL of
//! `crates/plaza-store/migrations/sqlite/0006_usage.sql` without the foreign key to `orgs`:
//! same columns, same primary key (org_id, app_id, event_id), same secondary index), opened the
//! way Plaza's store opens its file (sqlx defaults, so `synchronous` stays SQLite's FULL;
//! `foreign_keys = ON`, `busy_timeout = 5000`, `journal_mode = WAL`). Then, for each batch of
//! the workload, one `BEGIN IMMEDIATE` transaction (as Plaza's writes take) of
//! `INSERT … ON CONFLICT DO NOTHING` through one prepared statement, committed. A producer
//! thread computes the rows (decimal text values, `{}` tags and dimensions, the 64-hex content
//! hash Plaza computes) a few batches ahead.
//!
//! One statement inserts one row, as Plaza's store does; `--rows-per-statement N` packs N rows
//! into one multi-row `VALUES` statement instead, which shows how much of the time is the cost
//! per statement (sqlx hands every statement to its SQLite worker thread and waits for the
//! answer) rather than SQLite's own work.
//!
//! The last line on stdout is one JSON object like `usage-load`'s, with the per-batch commit
//! latency (BEGIN to COMMIT done) as p50/p99.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use plaza_loadgen::stats::{percentile_ms, round3, Progress};
use plaza_loadgen::workload::{self, Row, Workload};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteStatement};
use sqlx::{Connection, Executor, Row as _, Statement};
use tokio::sync::mpsc;

/// Insert the rows of the usage workload into SQLite directly, one transaction per batch, and
/// report events/s and p50/p99 commit latency.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Events to insert, resends included
    #[arg(long, default_value_t = 10_000_000)]
    events: u64,
    /// Events per transaction
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Fraction of the events that are exact resends of earlier ones (0 to 0.5)
    #[arg(long, default_value_t = 0.05)]
    duplicates: f64,
    /// The SQLite file to create (must not exist); default: one in a fresh temporary
    /// directory, removed at the end
    #[arg(long)]
    db: Option<PathBuf>,
    /// appId of the events
    #[arg(long, default_value = workload::DEFAULT_APP)]
    app: String,
    /// instanceId of the events
    #[arg(long, default_value = workload::DEFAULT_INSTANCE)]
    instance: String,
    /// metric of the events
    #[arg(long, default_value = workload::DEFAULT_METRIC)]
    metric: String,
    /// The metric's declared unit (stored as unit and original unit)
    #[arg(long, default_value = workload::DEFAULT_UNIT)]
    unit: String,
    /// Part of every event id
    #[arg(long)]
    run_id: Option<String>,
    /// Which earlier batches resends repeat (as for usage-load, so the rows are the same)
    #[arg(long, default_value_t = workload::DEFAULT_RESEND_LAG)]
    resend_lag: u64,
    /// Seed of the values, timestamps' jitter and resent events
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Rows per INSERT statement (1, as Plaza's store does; more packs several rows into one
    /// multi-row VALUES statement, to see what the per-statement cost is)
    #[arg(long, default_value_t = 1)]
    rows_per_statement: usize,
    /// Seconds between progress lines on stderr
    #[arg(long, default_value_t = 5)]
    progress_secs: u64,
}

/// Plaza's `usage_events` (migration 0006) without the foreign key to `orgs`, and its index.
const SCHEMA: &[&str] = &[
    "CREATE TABLE usage_events (
        org_id          TEXT NOT NULL,
        app_id          TEXT NOT NULL,
        event_id        TEXT NOT NULL,
        instance_id     TEXT NOT NULL,
        metric          TEXT NOT NULL,
        value           TEXT NOT NULL,
        unit            TEXT NOT NULL,
        original_value  TEXT NOT NULL,
        original_unit   TEXT NOT NULL,
        occurred_at     BIGINT NOT NULL,
        sequence        BIGINT,
        kind            TEXT NOT NULL CHECK (kind IN ('usage', 'void', 'adjust')),
        correction_of   TEXT,
        tags            TEXT NOT NULL,
        dimensions      TEXT NOT NULL,
        content_hash    TEXT NOT NULL,
        received_at     BIGINT NOT NULL,
        PRIMARY KEY (org_id, app_id, event_id)
    )",
    "CREATE INDEX usage_events_by_metric_time ON usage_events (org_id, app_id, metric, occurred_at)",
];

/// The statement Plaza's store runs per event (`crates/plaza-store/src/repo/usage.rs`).
const INSERT: &str = "INSERT INTO usage_events (org_id, app_id, event_id, instance_id, metric, \
     value, unit, original_value, original_unit, occurred_at, sequence, kind, correction_of, \
     tags, dimensions, content_hash, received_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
     ON CONFLICT (org_id, app_id, event_id) DO NOTHING";

/// The statement inserting `n` rows at once: [`INSERT`] itself for one.
fn insert_sql(n: usize) -> String {
    if n == 1 {
        return INSERT.to_owned();
    }
    let (head, tail) = INSERT
        .split_once(" VALUES ")
        .and_then(|(head, rest)| Some((head, rest.split_once(") ")?.1)))
        .unwrap_or_default();
    let row = format!("({})", vec!["?"; 17].join(", "));
    format!("{head} VALUES {} {tail}", vec![row; n].join(", "))
}

/// An org id shaped like Plaza's (`org_` and a simple UUID v7).
const ORG_ID: &str = "org_0198c0de5a1e7b3c9d2e4f6a8b0c1d2e";

/// A batch's rows, ready to insert.
struct Prepared {
    index: u64,
    duplicates: u64,
    rows: Vec<Row>,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut w = Workload::new(args.events, args.batch, args.duplicates)?;
    w.app_id = args.app.clone();
    w.instance_id = args.instance.clone();
    w.metric = args.metric.clone();
    w.resend_lag = args.resend_lag;
    w.seed = args.seed;
    if let Some(run) = &args.run_id {
        w.run_id = run.clone();
    }
    w.check()?;
    let (db, temp_dir) = match &args.db {
        Some(path) => {
            for p in sqlite_files(path) {
                if p.exists() {
                    bail!("{} exists; the floor needs a fresh database", p.display());
                }
            }
            (path.clone(), None)
        }
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            let dir =
                std::env::temp_dir().join(format!("plaza-floor-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            (dir.join("usage.db"), Some(dir))
        }
    };
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(&args, Arc::new(w), &db));
    if let Some(dir) = temp_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// The database file and its WAL and shared-memory companions.
fn sqlite_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [db.to_owned(), with("-wal"), with("-shm")]
}

async fn run(args: &Args, w: Arc<Workload>, db: &Path) -> Result<()> {
    // As plaza-store's connect.rs: sqlx's defaults, then these per-connection pragmas, then WAL.
    let options = SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    conn.execute("PRAGMA busy_timeout = 5000").await?;
    let journal_mode: String = sqlx::query("PRAGMA journal_mode = WAL")
        .fetch_one(&mut conn)
        .await?
        .try_get(0)?;
    let synchronous: i64 = sqlx::query("PRAGMA synchronous")
        .fetch_one(&mut conn)
        .await?
        .try_get(0)?;
    let synchronous = match synchronous {
        0 => "OFF",
        1 => "NORMAL",
        2 => "FULL",
        3 => "EXTRA",
        _ => "unknown",
    };
    for ddl in SCHEMA {
        conn.execute(*ddl).await?;
    }
    if args.rows_per_statement == 0 {
        bail!("--rows-per-statement must be at least 1");
    }
    // One prepared statement per chunk size that occurs (the full one, and the remainders).
    let mut statements: HashMap<usize, SqliteStatement<'static>> = HashMap::new();
    for len in [w.batch, w.events - (w.batches() - 1) * w.batch] {
        let len = len as usize;
        for n in [
            args.rows_per_statement.min(len),
            len % args.rows_per_statement,
        ] {
            if n > 0 && !statements.contains_key(&n) {
                let sql = insert_sql(n);
                let statement = Statement::to_owned(&conn.prepare(&sql).await?);
                statements.insert(n, statement);
            }
        }
    }

    let (tx, mut rx) = mpsc::channel::<Prepared>(4);
    let producer = {
        let w = Arc::clone(&w);
        let unit = args.unit.clone();
        std::thread::spawn(move || {
            for j in 0..w.batches() {
                let plan = w.plan(j);
                let rows = plan.slots.iter().map(|s| w.row(s.fresh, &unit)).collect();
                let prepared = Prepared {
                    index: j,
                    duplicates: plan.duplicates,
                    rows,
                };
                if tx.blocking_send(prepared).is_err() {
                    return; // the inserter gave up
                }
            }
        })
    };

    eprintln!(
        "usage-floor: {} events in {} transactions of {} ({} resends) into {} \
         (journal_mode={journal_mode}, synchronous={synchronous})",
        w.events,
        w.batches(),
        w.batch,
        w.total_duplicates(),
        db.display()
    );
    let mut progress = Progress::new(
        "usage-floor",
        w.events,
        Duration::from_secs(args.progress_secs),
    );
    let mut latencies = Vec::with_capacity(w.batches() as usize);
    let (mut events, mut inserted, mut duplicates) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    while let Some(batch) = rx.recv().await {
        let began = Instant::now();
        let received_at = chrono::Utc::now().timestamp_millis();
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let mut batch_inserted = 0;
        for chunk in batch.rows.chunks(args.rows_per_statement) {
            let statement = statements
                .get(&chunk.len())
                .ok_or_else(|| anyhow!("no statement for {} rows", chunk.len()))?;
            let mut query = statement.query();
            for row in chunk {
                query = query
                    .bind(ORG_ID)
                    .bind(&w.app_id)
                    .bind(&row.event_id)
                    .bind(&w.instance_id)
                    .bind(&w.metric)
                    .bind(&row.value)
                    .bind(&args.unit)
                    .bind(&row.value)
                    .bind(&args.unit)
                    .bind(row.occurred_ms)
                    .bind(row.sequence)
                    .bind("usage")
                    .bind(None::<&str>)
                    .bind("{}")
                    .bind("{}")
                    .bind(&row.content_hash)
                    .bind(received_at);
            }
            batch_inserted += query.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        latencies.push(began.elapsed());
        let batch_events = batch.rows.len() as u64;
        if batch_inserted != batch_events - batch.duplicates {
            bail!(
                "batch {} inserted {batch_inserted} of {batch_events} rows, but {} were resends",
                batch.index,
                batch.duplicates
            );
        }
        events += batch_events;
        inserted += batch_inserted;
        duplicates += batch_events - batch_inserted;
        progress.update(events);
    }
    let seconds = start.elapsed().as_secs_f64();
    producer
        .join()
        .map_err(|_| anyhow!("the row producer panicked"))?;
    if events != w.events {
        bail!("only {events} of {} events were inserted", w.events);
    }
    let stored: i64 = sqlx::query("SELECT count(*) FROM usage_events")
        .fetch_one(&mut conn)
        .await?
        .try_get(0)?;
    if stored as u64 != inserted {
        bail!("{stored} rows are stored, but {inserted} were inserted");
    }
    conn.close().await?;

    latencies.sort_unstable();
    let summary = serde_json::json!({
        "tool": "usage-floor",
        "events": events,
        "batches": latencies.len(),
        "batch": w.batch,
        "seconds": round3(seconds),
        "events_per_s": (events as f64 / seconds).round(),
        "p50_ms": round3(percentile_ms(&latencies, 0.50)),
        "p99_ms": round3(percentile_ms(&latencies, 0.99)),
        "max_ms": round3(percentile_ms(&latencies, 1.0)),
        "inserted": inserted,
        "duplicates": duplicates,
        "journal_mode": journal_mode,
        "synchronous": synchronous,
        "rows_per_statement": args.rows_per_statement,
    });
    println!("{summary}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_statements_keep_the_columns_and_the_conflict_clause() {
        assert_eq!(insert_sql(1), INSERT);
        let two = insert_sql(2);
        assert!(two.starts_with("INSERT INTO usage_events (org_id, app_id, event_id,"));
        assert_eq!(two.matches('?').count(), 34);
        assert_eq!(two.matches("), (").count(), 1);
        assert!(two.ends_with(") ON CONFLICT (org_id, app_id, event_id) DO NOTHING"));
    }
}
