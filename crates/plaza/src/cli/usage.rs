//! `plaza usage`: metering from the command line, over the `/api/usage/*` API (docs/metering.md).
//!
//! - `emit` sends one event (`--event JSON`) or a file of them (`-` for standard input). The
//!   input format is guessed (`.ndjson`/`.jsonl` → NDJSON; a JSON object or array → JSON, or
//!   CloudEvents when it has `specversion`) unless `--as` names it. Inputs with more events than
//!   `--batch-size` (the server's default limit, 10,000) or more than 8 MiB are split into
//!   requests at event boundaries, each sent verbatim (NDJSON lines, JSON array elements), with
//!   a progress bar when stderr is a terminal; every line and column the server reports is
//!   mapped back to the input, and each event's index is its position in the whole input.
//! - `query` aggregates one metric; `dead-letters` and `replay` inspect and replay rejected
//!   events; `gaps`, `periods` and `mark-period` deal with sequence numbers.
//!
//! The commands act on the token owner's org. `--format json` prints the server's answer (for
//! `emit`, the answers merged into one report whose events also carry their input `line`).
//! Exit codes: 0 done; 1 some events were rejected or conflict (`emit`, `replay`); 2 usage,
//! I/O or server error (the problem's detail is printed).

use super::remote::{problem_text, ServerArgs};
use super::{EXIT_INVALID, EXIT_USAGE_OR_IO};
use anyhow::Context;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The server's default `usage_max_batch`.
const DEFAULT_BATCH: usize = 10_000;
/// Most bytes per request (the server's default limit is 16 MiB).
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Subcommands of `plaza usage`.
#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Send usage events: one (`--event`) or a file of them, split into batches when large;
    /// exit 1 when some were rejected or conflict.
    Emit(EmitArgs),
    /// Aggregate one metric over hour, day or month windows.
    Query(QueryArgs),
    /// List the rejected events kept in the dead-letter store, with every reason.
    DeadLetters {
        /// At most this many (1–1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Also list the dead letters already replayed.
        #[arg(long)]
        include_replayed: bool,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Replay a dead letter after a fix (its stored event, or a corrected one); exit 1 when it
    /// is still rejected or conflicts.
    Replay {
        /// The dead letter's id (see `plaza usage dead-letters`).
        id: String,
        /// The corrected event (one JSON event) to send instead of the stored one.
        #[arg(long, value_name = "FILE")]
        event: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Show the sequence numbers each instance is missing.
    Gaps {
        #[command(flatten)]
        filter: InstanceFilter,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// List the period-complete markers and whether each period is complete now.
    Periods {
        #[command(flatten)]
        filter: InstanceFilter,
        #[command(flatten)]
        output: OutputArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Mark a period of an instance as fully reported (sequence numbers FIRST..=LAST).
    MarkPeriod(MarkPeriodArgs),
}

/// How to print the answer.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Optional app and instance filters.
#[derive(Debug, Args)]
pub struct InstanceFilter {
    /// Only this app.
    #[arg(long, value_name = "APP_ID")]
    app: Option<String>,
    /// Only this instance.
    #[arg(long, value_name = "INSTANCE_ID")]
    instance: Option<String>,
}

/// Arguments of `plaza usage emit`.
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// A file of events, `-` for standard input.
    #[arg(
        value_name = "FILE",
        conflicts_with = "event",
        required_unless_present = "event"
    )]
    file: Option<PathBuf>,
    /// One event, as inline JSON (Plaza shape, or a CloudEvent).
    #[arg(long, value_name = "JSON")]
    event: Option<String>,
    /// The input's format [default: guessed: `.ndjson`/`.jsonl` → ndjson; a JSON object or
    /// array → json, or cloudevents / cloudevents-batch when it has `specversion`].
    #[arg(
        long = "as",
        visible_alias = "input-format",
        value_enum,
        value_name = "INPUT_FORMAT"
    )]
    input_format: Option<InputFormat>,
    /// Most events per request (lower it if the server's `usage_max_batch` is lower).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH, value_parser = positive)]
    batch_size: usize,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    server: ServerArgs,
}

/// The formats `POST /api/usage/events` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    /// One event object per line (`application/x-ndjson`).
    Ndjson,
    /// One event object or an array of them (`application/json`).
    Json,
    /// One CloudEvents 1.0 structured event (`application/cloudevents+json`).
    Cloudevents,
    /// An array of CloudEvents (`application/cloudevents-batch+json`).
    CloudeventsBatch,
}

impl InputFormat {
    fn content_type(self) -> &'static str {
        match self {
            InputFormat::Ndjson => "application/x-ndjson",
            InputFormat::Json => "application/json",
            InputFormat::Cloudevents => "application/cloudevents+json",
            InputFormat::CloudeventsBatch => "application/cloudevents-batch+json",
        }
    }
}

/// Arguments of `plaza usage query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The metric.
    #[arg(long)]
    metric: String,
    /// Only this app.
    #[arg(long, value_name = "APP_ID")]
    app: Option<String>,
    /// Only this instance.
    #[arg(long, value_name = "INSTANCE_ID")]
    instance: Option<String>,
    /// Only usage recorded while the instances ran this app version (exact).
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// Only usage of the instances of this team (slug).
    #[arg(long, value_name = "TEAM")]
    team: Option<String>,
    /// Only usage of the instances whose current `cost-center` tag is this.
    #[arg(long, value_name = "COST_CENTER")]
    cost_center: Option<String>,
    /// Only events with this tag.
    #[arg(long, value_name = "KEY:VALUE")]
    tag: Option<String>,
    /// Window size.
    #[arg(long, value_enum, default_value_t = Granularity::Day)]
    granularity: Granularity,
    /// IANA time zone of the windows, e.g. Europe/Paris.
    #[arg(long = "tz", value_name = "ZONE", default_value = "UTC")]
    time_zone: String,
    /// How values combine in a window.
    #[arg(long, value_enum, default_value_t = Aggregation::Sum)]
    aggregation: Aggregation,
    /// With `--aggregation unique_count`: count distinct values of this dimension.
    #[arg(long, value_name = "DIMENSION")]
    unique_of: Option<String>,
    /// Start: RFC 3339, or YYYY-MM-DD for midnight UTC (widened to its window's start).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: DateTime<Utc>,
    /// End, exclusive: RFC 3339, or YYYY-MM-DD for midnight UTC (widened to its window's end).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: DateTime<Utc>,
    /// One row per app, instance, app version, team or cost center in each window.
    #[arg(long, value_enum)]
    group_by: Option<GroupBy>,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Granularity {
    Hour,
    Day,
    Month,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Aggregation {
    Sum,
    Count,
    Max,
    #[value(name = "unique_count", alias = "unique-count")]
    UniqueCount,
    Latest,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GroupBy {
    App,
    Instance,
    Version,
    Team,
    #[value(name = "costCenter", alias = "cost-center")]
    CostCenter,
}

/// Arguments of `plaza usage mark-period`.
#[derive(Debug, Args)]
pub struct MarkPeriodArgs {
    /// The app.
    #[arg(long, value_name = "APP_ID")]
    app: String,
    /// The instance.
    #[arg(long, value_name = "INSTANCE_ID")]
    instance: String,
    /// The period's start: RFC 3339, or YYYY-MM-DD for midnight UTC.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    start: DateTime<Utc>,
    /// The period's end, exclusive: RFC 3339, or YYYY-MM-DD for midnight UTC.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    end: DateTime<Utc>,
    /// The period's first sequence number.
    #[arg(long, value_name = "N")]
    first: u64,
    /// The period's last sequence number.
    #[arg(long, value_name = "N")]
    last: u64,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    server: ServerArgs,
}

fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a positive whole number")),
    }
}

/// RFC 3339, or a plain date meaning midnight UTC.
fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Some(t) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "`{s}` is neither an RFC 3339 time (2026-01-10T14:00:00Z) nor a date (2026-01-10)"
    ))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `path` with the query string of `pairs` (absent values left out), percent-encoded.
fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let mut url = reqwest::Url::parse("http://plaza.invalid/").expect("a valid base URL");
    url.set_path(path);
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
    }
    match url.query() {
        Some(q) if !q.is_empty() => format!("{}?{q}", url.path()),
        _ => url.path().to_owned(),
    }
}

/// Runs a usage subcommand.
pub async fn run(cmd: UsageCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UsageCommand::Emit(a) => emit(a).await,
        UsageCommand::Query(a) => query(a).await,
        UsageCommand::DeadLetters {
            limit,
            include_replayed,
            output,
            server,
        } => dead_letters(limit, include_replayed, output.format, &server).await,
        UsageCommand::Replay {
            id,
            event,
            output,
            server,
        } => replay(&id, event.as_deref(), output.format, &server).await,
        UsageCommand::Gaps {
            filter,
            output,
            server,
        } => gaps(&filter, output.format, &server).await,
        UsageCommand::Periods {
            filter,
            output,
            server,
        } => periods(&filter, output.format, &server).await,
        UsageCommand::MarkPeriod(a) => mark_period(a).await,
    }
}

// ---------------------------------------------------------------------------------------------
// emit

/// One request body and how its positions map back to the input.
struct Batch {
    body: Vec<u8>,
    map: Origin,
}

/// Where a request body's events and lines are in the input.
#[derive(Default)]
struct Origin {
    /// The input line each event starts on, in body order (empty when not known).
    event_lines: Vec<usize>,
    /// Input line = body line + `line_shift`.
    line_shift: usize,
    /// Input column = body column + `col_shift`, on the body's first line only.
    col_shift: isize,
    /// The body is a slice of an array: decoding problems' pointers start with the element's
    /// index in the body (`/0/value`), to be shifted to its index in the input.
    slice_of_array: bool,
}

/// The 1-based line starts of `text`, for turning byte offsets into line and column.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &[u8]) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines(starts)
    }

    /// 1-based line and byte column of `offset`.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.0.partition_point(|s| *s <= offset).max(1);
        (line, offset - self.0[line - 1] + 1)
    }
}

/// Guesses the input format from the file name, then the content.
fn guess_format(name: Option<&Path>, bytes: &[u8]) -> InputFormat {
    let ext = name
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if matches!(ext.as_deref(), Some("ndjson" | "jsonl")) {
        return InputFormat::Ndjson;
    }
    let text = String::from_utf8_lossy(strip_bom(bytes));
    let is_cloudevent = |v: &Value| v.as_object().is_some_and(|o| o.contains_key("specversion"));
    match serde_json::from_str::<Vec<&RawValue>>(&text) {
        Ok(items) => {
            let first = items
                .first()
                .and_then(|r| serde_json::from_str::<Value>(r.get()).ok());
            return if first.as_ref().is_some_and(is_cloudevent) {
                InputFormat::CloudeventsBatch
            } else {
                InputFormat::Json
            };
        }
        Err(_) => {
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                return if is_cloudevent(&v) {
                    InputFormat::Cloudevents
                } else {
                    InputFormat::Json
                };
            }
        }
    }
    // Not one JSON document: NDJSON when it has several lines and the first is an object.
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first_is_object = lines
        .next()
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .is_some_and(|v| v.is_object());
    if first_is_object && lines.next().is_some() {
        InputFormat::Ndjson
    } else {
        // Sent as is, so the server says exactly where the JSON is broken.
        InputFormat::Json
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Splits the input into request bodies of at most `max` events and about
/// [`MAX_BATCH_BYTES`] each, at event boundaries, keeping each event's bytes as they are.
fn frame(bytes: &[u8], format: InputFormat, max: usize) -> Vec<Batch> {
    match format {
        InputFormat::Ndjson => frame_ndjson(bytes, max),
        _ => frame_json(bytes, max),
    }
}

fn frame_ndjson(bytes: &[u8], max: usize) -> Vec<Batch> {
    let mut batches = Vec::new();
    // The current batch: where it starts (byte, line) and the lines of its events.
    let (mut start, mut start_line, mut lines) = (0usize, 1usize, Vec::new());
    let mut pos = 0usize;
    let mut line_no = 1usize;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| pos + i + 1);
        let blank = strip_bom(&bytes[pos..end]).trim_ascii().is_empty();
        if !blank {
            if !lines.is_empty() && (lines.len() >= max || end - start > MAX_BATCH_BYTES) {
                batches.push(Batch {
                    body: bytes[start..pos].to_vec(),
                    map: Origin {
                        event_lines: std::mem::take(&mut lines),
                        line_shift: start_line - 1,
                        ..Origin::default()
                    },
                });
                (start, start_line) = (pos, line_no);
            }
            lines.push(line_no);
        }
        pos = end;
        line_no += 1;
    }
    if !lines.is_empty() {
        batches.push(Batch {
            body: bytes[start..].to_vec(),
            map: Origin {
                event_lines: lines,
                line_shift: start_line - 1,
                ..Origin::default()
            },
        });
    }
    batches
}

fn frame_json(bytes: &[u8], max: usize) -> Vec<Batch> {
    let whole = |event_lines| {
        vec![Batch {
            body: bytes.to_vec(),
            map: Origin {
                event_lines,
                ..Origin::default()
            },
        }]
    };
    if bytes.trim_ascii().is_empty() {
        return Vec::new();
    }
    let bom = bytes.len() - strip_bom(bytes).len();
    let Ok(text) = std::str::from_utf8(&bytes[bom..]) else {
        return whole(Vec::new()); // the server says where the bad byte is
    };
    let lines = Lines::of(bytes);
    let offset = |raw: &RawValue| bom + (raw.get().as_ptr() as usize - text.as_ptr() as usize);
    let items = match serde_json::from_str::<Vec<&RawValue>>(text) {
        Ok(items) => items,
        Err(_) => {
            // One object (or something the server will refuse, saying where).
            let line = serde_json::from_str::<&RawValue>(text)
                .map(|r| vec![lines.line_col(offset(r)).0])
                .unwrap_or_default();
            return whole(line);
        }
    };
    let starts: Vec<usize> = items.iter().map(|r| offset(r)).collect();
    let event_lines: Vec<usize> = starts.iter().map(|o| lines.line_col(*o).0).collect();
    if items.len() <= max && bytes.len() <= MAX_BATCH_BYTES {
        return whole(event_lines);
    }
    // Each batch is `[` + the input from its first element's start to its last one's end + `]`.
    let mut batches = Vec::new();
    let mut first = 0;
    while first < items.len() {
        let mut last = first; // inclusive
        while last + 1 < items.len()
            && last + 1 - first < max
            && starts[last + 1] + items[last + 1].get().len() - starts[first] <= MAX_BATCH_BYTES
        {
            last += 1;
        }
        let (from, to) = (starts[first], starts[last] + items[last].get().len());
        let mut body = Vec::with_capacity(to - from + 2);
        body.push(b'[');
        body.extend_from_slice(&bytes[from..to]);
        body.push(b']');
        let (line, col) = lines.line_col(from);
        batches.push(Batch {
            body,
            map: Origin {
                event_lines: event_lines[first..=last].to_vec(),
                line_shift: line - 1,
                col_shift: col as isize - 2,
                slice_of_array: true,
            },
        });
        first = last + 1;
    }
    batches
}

/// The answers of every request merged into one report, positions relative to the input.
#[derive(Default)]
struct Merged {
    accepted: u64,
    duplicates: u64,
    conflicts: u64,
    rejected: u64,
    events: Vec<Value>,
}

impl Merged {
    fn add(&mut self, report: &Value, map: &Origin) {
        let count = |k: &str| report.get(k).and_then(Value::as_u64).unwrap_or(0);
        self.accepted += count("accepted");
        self.duplicates += count("duplicates");
        self.conflicts += count("conflicts");
        self.rejected += count("rejected");
        let base = self.events.len();
        for e in report
            .get("events")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut e = e.clone();
            let local = e.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            e["index"] = json!(base + local);
            if let Some(line) = map.event_lines.get(local) {
                e["line"] = json!(line);
            }
            for p in e
                .get_mut("problems")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if map.slice_of_array {
                    if let Some(pointer) = p.get("pointer").and_then(Value::as_str) {
                        p["pointer"] = json!(shift_pointer(pointer, base));
                    }
                }
                let Some(line) = p.get("line").and_then(Value::as_u64) else {
                    continue;
                };
                if line == 1 {
                    if let Some(col) = p.get("column").and_then(Value::as_i64) {
                        p["column"] = json!((col + map.col_shift as i64).max(1));
                    }
                }
                p["line"] = json!(line as usize + map.line_shift);
            }
            self.events.push(e);
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "rejected": self.rejected,
            "events": self.events,
        })
    }

    fn failed(&self) -> bool {
        self.rejected + self.conflicts > 0
    }
}

/// `/i/rest` → `/(i + by)/rest`; other pointers unchanged.
fn shift_pointer(pointer: &str, by: usize) -> String {
    let Some(rest) = pointer.strip_prefix('/') else {
        return pointer.to_owned();
    };
    let (first, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match first.parse::<usize>() {
        Ok(i) => format!("/{}{tail}", i + by),
        Err(_) => pointer.to_owned(),
    }
}

fn read_input(a: &EmitArgs) -> anyhow::Result<(String, Vec<u8>)> {
    if let Some(e) = &a.event {
        return Ok(("--event".to_owned(), e.clone().into_bytes()));
    }
    let path = a
        .file
        .as_deref()
        .context("give a FILE, `-`, or --event JSON")?;
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        return Ok(("standard input".to_owned(), buf));
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((path.display().to_string(), bytes))
}

fn progress(events: usize) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(events as u64);
    if let Ok(style) =
        ProgressStyle::with_template("sending [{bar:30}] {pos}/{len} events {per_sec} {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

async fn emit(a: EmitArgs) -> anyhow::Result<ExitCode> {
    let (name, bytes) = read_input(&a)?;
    let format = a
        .input_format
        .unwrap_or_else(|| guess_format(a.file.as_deref(), &bytes));
    let batches = frame(&bytes, format, a.batch_size);
    drop(bytes);
    if batches.is_empty() {
        eprintln!("error: {name} holds no events");
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let remote = a.server.connect()?;
    let total = batches.len();
    let bar = if total > 1 {
        progress(batches.iter().map(|b| b.map.event_lines.len()).sum())
    } else {
        ProgressBar::hidden()
    };
    let path = "/api/usage/events";
    let mut merged = Merged::default();
    for (i, batch) in batches.into_iter().enumerate() {
        let sent = remote
            .try_send(Method::POST, path, format.content_type(), batch.body)
            .await;
        let refused = match &sent {
            Ok((status, _)) => !status.is_success(),
            Err(_) => true,
        };
        if refused {
            bar.finish_and_clear();
            match sent {
                Ok((status, body)) => {
                    eprintln!("{}", problem_text(&remote.url(path), status, &body))
                }
                Err(e) => eprintln!("error: {e:#}"),
            }
            if i > 0 {
                eprintln!(
                    "request {} of {total} failed; the {} event(s) before it were answered \
                     ({} accepted); sending {name} again is safe: events already counted come \
                     back as duplicates",
                    i + 1,
                    merged.events.len(),
                    merged.accepted
                );
            }
            return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
        }
        let (_, report) = sent?;
        merged.add(&report, &batch.map);
        bar.inc(batch.map.event_lines.len() as u64);
    }
    bar.finish_and_clear();

    if a.output.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&merged.to_json())?);
    } else {
        println!(
            "{name}: {} event(s) in {total} request(s): {} accepted, {} duplicate(s), {} conflict(s), {} rejected",
            merged.events.len(),
            merged.accepted,
            merged.duplicates,
            merged.conflicts,
            merged.rejected
        );
        for e in &merged.events {
            let status = e.get("status").and_then(Value::as_str).unwrap_or("");
            if matches!(status, "rejected" | "conflict") {
                print_event(e, status);
            }
        }
        if merged.rejected > 0 {
            println!("rejected events are kept: `plaza usage dead-letters` lists them, `plaza usage replay ID` replays one after a fix");
        }
    }
    Ok(if merged.failed() {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

/// One event's status line and its problems.
fn print_event(e: &Value, status: &str) {
    let mut head = format!("{status}: event {}", e["index"]);
    if let Some(line) = e.get("line").and_then(Value::as_u64) {
        head.push_str(&format!(" (line {line})"));
    }
    if let Some(id) = e.get("eventId").and_then(Value::as_str) {
        head.push_str(&format!(" {id}"));
    }
    println!("{head}");
    print_problems(e.get("problems"));
}

/// Each problem as `code at pointer (line L, column C): message`, then its hint.
fn print_problems(problems: Option<&Value>) {
    for p in problems.and_then(Value::as_array).into_iter().flatten() {
        let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
        let mut line = format!("  {}", s("code"));
        if !s("pointer").is_empty() {
            line.push_str(&format!(" at {}", s("pointer")));
        }
        match (
            p.get("line").and_then(Value::as_u64),
            p.get("column").and_then(Value::as_u64),
        ) {
            (Some(l), Some(c)) => line.push_str(&format!(" (line {l}, column {c})")),
            (Some(l), None) => line.push_str(&format!(" (line {l})")),
            _ => {}
        }
        println!("{line}: {}", s("message"));
        if !s("hint").is_empty() {
            println!("    hint: {}", s("hint"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// query

async fn query(a: QueryArgs) -> anyhow::Result<ExitCode> {
    // The ValueEnum names are the ones the server reads.
    fn name(v: impl ValueEnum) -> Option<String> {
        v.to_possible_value().map(|p| p.get_name().to_owned())
    }
    let path = with_query(
        "/api/usage/query",
        &[
            ("metric", Some(a.metric.clone())),
            ("appId", a.app.clone()),
            ("instanceId", a.instance.clone()),
            ("version", a.version.clone()),
            ("team", a.team.clone()),
            ("costCenter", a.cost_center.clone()),
            ("tag", a.tag.clone()),
            ("granularity", name(a.granularity)),
            ("timeZone", Some(a.time_zone.clone())),
            ("aggregation", name(a.aggregation)),
            ("uniqueOf", a.unique_of.clone()),
            ("from", Some(rfc3339(a.from))),
            ("until", Some(rfc3339(a.until))),
            ("groupBy", a.group_by.and_then(name)),
        ],
    );
    let remote = a.server.connect()?;
    let answer = remote.call(Method::GET, &path, None).await?;
    if a.output.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(ExitCode::SUCCESS);
    }
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    println!(
        "{}: {} per {} in {}, {} .. {} ({} window(s) from rollups, {} from raw events)",
        s(&answer, "metric"),
        s(&answer, "aggregation"),
        s(&answer, "granularity"),
        s(&answer, "timeZone"),
        rfc3339(a.from),
        rfc3339(a.until),
        answer["windowsFromRollups"],
        answer["windowsFromEvents"],
    );
    let rows = answer
        .get("rows")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if rows.is_empty() {
        println!("no events in that range");
        return Ok(ExitCode::SUCCESS);
    }
    let grouped = answer.get("groupBy").and_then(Value::as_str);
    let mut header = vec!["start", "end"];
    header.extend(grouped);
    header.extend(["value", "events"]);
    let mut table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![s(r, "start"), s(r, "end")];
            if grouped.is_some() {
                // An empty group: a version recorded before versions were kept, or an
                // instance without a team or cost center.
                let group = s(r, "group");
                row.push(if group.is_empty() { "-".into() } else { group });
            }
            row.push(s(r, "value"));
            row.push(
                r.get("events")
                    .and_then(Value::as_u64)
                    .unwrap_or(0)
                    .to_string(),
            );
            row
        })
        .collect();
    // A total where adding windows means something.
    if matches!(a.aggregation, Aggregation::Sum | Aggregation::Count) {
        let total = rows
            .iter()
            .try_fold(plaza_metering::Decimal::ZERO, |acc, r| {
                let v = plaza_metering::number::parse_json_number(&s(r, "value")).ok()?;
                plaza_metering::number::add_exact(acc, v)
            });
        let events: u64 = rows
            .iter()
            .filter_map(|r| r.get("events").and_then(Value::as_u64))
            .sum();
        if let Some(total) = total {
            let mut row = vec!["total".to_owned(), String::new()];
            if grouped.is_some() {
                row.push(String::new());
            }
            row.push(plaza_metering::number::canonical_text(total));
            row.push(events.to_string());
            table.push(row);
        }
    }
    print_table(&header, &table, 2);
    Ok(ExitCode::SUCCESS)
}

/// Prints aligned columns; the last `numeric` columns are right-aligned.
fn print_table(header: &[&str], rows: &[Vec<String>], numeric: usize) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let right_from = header.len().saturating_sub(numeric);
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i >= right_from {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

// ---------------------------------------------------------------------------------------------
// dead letters and replay

async fn dead_letters(
    limit: u32,
    include_replayed: bool,
    format: Format,
    server: &ServerArgs,
) -> anyhow::Result<ExitCode> {
    let path = with_query(
        "/api/usage/dead-letters",
        &[
            ("limit", Some(limit.to_string())),
            ("includeReplayed", Some(include_replayed.to_string())),
        ],
    );
    let Some(items) = list_or_print_json(server, &path, format).await? else {
        return Ok(ExitCode::SUCCESS);
    };
    if items.is_empty() {
        println!(
            "no dead letters{}",
            if include_replayed {
                ""
            } else {
                " waiting for a fix (--include-replayed lists the replayed ones too)"
            }
        );
    }
    for d in &items {
        let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
        let mut head = format!(
            "{}  received {}  event {} of its request",
            s("id"),
            s("receivedAt"),
            d["index"]
        );
        if let Some(line) = d.get("line").and_then(Value::as_u64).filter(|l| *l > 0) {
            head.push_str(&format!(", line {line}"));
        }
        if !s("replayedAt").is_empty() {
            head.push_str(&format!(
                "  replayed {} ({})",
                s("replayedAt"),
                s("replayStatus")
            ));
        }
        println!("{head}");
        match d.get("event") {
            Some(e) => println!("  event: {}", serde_json::to_string(e)?),
            None => println!("  event: (could not be decoded; replay it with --event FILE)"),
        }
        print_problems(d.get("problems"));
    }
    Ok(ExitCode::SUCCESS)
}

async fn replay(
    id: &str,
    event: Option<&Path>,
    format: Format,
    server: &ServerArgs,
) -> anyhow::Result<ExitCode> {
    let body = match event {
        Some(p) => std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        None => Vec::new(),
    };
    let mut url = reqwest::Url::parse("http://plaza.invalid/api/usage/dead-letters/")?;
    url.path_segments_mut()
        .map_err(|()| anyhow::anyhow!("cannot build the replay path for `{id}`"))?
        .pop_if_empty()
        .push(id)
        .push("replay");
    let path = url.path().to_owned();
    let remote = server.connect()?;
    let (status, report) = remote
        .try_send(Method::POST, &path, "application/json", body)
        .await?;
    if !status.is_success() {
        eprintln!("{}", problem_text(&remote.url(&path), status, &report));
        return Ok(ExitCode::from(EXIT_USAGE_OR_IO));
    }
    let mut merged = Merged::default();
    merged.add(&report, &Origin::default());
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for e in &merged.events {
            let status = e.get("status").and_then(Value::as_str).unwrap_or("");
            match status {
                "accepted" | "duplicate" => println!(
                    "replayed {id}: {status}{}",
                    e.get("eventId")
                        .and_then(Value::as_str)
                        .map(|i| format!(" ({i})"))
                        .unwrap_or_default()
                ),
                _ => {
                    println!("replayed {id}: still {status}");
                    print_problems(e.get("problems"));
                }
            }
        }
    }
    Ok(if merged.failed() {
        ExitCode::from(EXIT_INVALID)
    } else {
        ExitCode::SUCCESS
    })
}

// ---------------------------------------------------------------------------------------------
// sequence gaps and periods

fn ranges(v: &Value) -> String {
    let parts: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| match (r[0].as_u64(), r[1].as_u64()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => r.to_string(),
        })
        .collect();
    parts.join(", ")
}

/// GETs a list: with `--format json` prints it as the server sent it and returns `None`;
/// otherwise returns its items for a text rendering.
async fn list_or_print_json(
    server: &ServerArgs,
    path: &str,
    format: Format,
) -> anyhow::Result<Option<Vec<Value>>> {
    let list = server.connect()?.call(Method::GET, path, None).await?;
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(None);
    }
    Ok(Some(list.as_array().cloned().unwrap_or_default()))
}

fn filter_query(path: &str, f: &InstanceFilter) -> String {
    with_query(
        path,
        &[("appId", f.app.clone()), ("instanceId", f.instance.clone())],
    )
}

async fn gaps(f: &InstanceFilter, format: Format, server: &ServerArgs) -> anyhow::Result<ExitCode> {
    let path = filter_query("/api/usage/gaps", f);
    let Some(items) = list_or_print_json(server, &path, format).await? else {
        return Ok(ExitCode::SUCCESS);
    };
    if items.is_empty() {
        println!("no sequence numbers reported");
    }
    for g in &items {
        let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or("");
        let missing = g.get("missingCount").and_then(Value::as_u64).unwrap_or(0);
        println!(
            "{} {}: sequence {}..{}, {} seen, {}",
            s("appId"),
            s("instanceId"),
            g["first"],
            g["last"],
            g["seen"],
            if missing == 0 {
                "no gaps".to_owned()
            } else {
                format!("{missing} missing: {}", ranges(&g["missing"]))
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_period(p: &Value) {
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
    let state = if p.get("complete").and_then(Value::as_bool) == Some(true) {
        "complete".to_owned()
    } else {
        format!("incomplete, missing {}", ranges(&p["missing"]))
    };
    println!(
        "{} {} {} .. {}, sequence {}..{}: {state} (marked by {} at {})",
        s("appId"),
        s("instanceId"),
        s("start"),
        s("end"),
        p["firstSequence"],
        p["lastSequence"],
        s("markedBy"),
        s("markedAt"),
    );
}

async fn periods(
    f: &InstanceFilter,
    format: Format,
    server: &ServerArgs,
) -> anyhow::Result<ExitCode> {
    let path = filter_query("/api/usage/periods", f);
    let Some(items) = list_or_print_json(server, &path, format).await? else {
        return Ok(ExitCode::SUCCESS);
    };
    if items.is_empty() {
        println!("no periods marked");
    }
    items.iter().for_each(print_period);
    Ok(ExitCode::SUCCESS)
}

async fn mark_period(a: MarkPeriodArgs) -> anyhow::Result<ExitCode> {
    let body = json!({
        "appId": a.app,
        "instanceId": a.instance,
        "start": rfc3339(a.start),
        "end": rfc3339(a.end),
        "firstSequence": a.first,
        "lastSequence": a.last,
    });
    let remote = a.server.connect()?;
    let status = remote
        .call(Method::POST, "/api/usage/periods", Some(&body))
        .await?;
    if a.output.format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("marked: ");
        print_period(&status);
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(b: &[Batch]) -> Vec<String> {
        b.iter()
            .map(|b| String::from_utf8_lossy(&b.body).into_owned())
            .collect()
    }

    #[test]
    fn ndjson_splits_at_lines_and_keeps_input_lines() {
        let input = b"{\"a\":1}\n\n{\"a\":2}\n{\"a\":3}\n";
        let b = frame(input, InputFormat::Ndjson, 2);
        assert_eq!(bodies(&b), ["{\"a\":1}\n\n{\"a\":2}\n", "{\"a\":3}\n"]);
        assert_eq!(b[0].map.event_lines, [1, 3]);
        assert_eq!(
            (b[1].map.event_lines.clone(), b[1].map.line_shift),
            (vec![4], 3)
        );
    }

    #[test]
    fn arrays_split_into_verbatim_slices_with_line_and_column_shifts() {
        let input = b"[\n  {\"a\":1},\n  {\"a\":2},\n  {\"a\":3}\n]\n";
        let b = frame(input, InputFormat::Json, 2);
        assert_eq!(bodies(&b), ["[{\"a\":1},\n  {\"a\":2}]", "[{\"a\":3}]"]);
        assert_eq!(b[1].map.event_lines, [4]);
        assert_eq!((b[1].map.line_shift, b[1].map.col_shift), (3, 1));
        // A problem at body line 1, column 2 (the event's start) is at input line 4, column 3.
        let mut m = Merged::default();
        m.add(
            &json!({"accepted":0,"duplicates":0,"conflicts":0,"rejected":0,"events":[]}),
            &b[0].map,
        );
        m.events.push(json!({})); // pretend the first batch had two events
        m.events.push(json!({}));
        m.add(
            &json!({"rejected":1,"events":[{"index":0,"status":"rejected","problems":[{"code":"x","pointer":"/0","message":"","hint":"","line":1,"column":2}]}]}),
            &b[1].map,
        );
        let e = &m.events[2];
        assert_eq!(
            (e["index"].as_u64(), e["line"].as_u64()),
            (Some(2), Some(4))
        );
        assert_eq!(e["problems"][0]["line"], 4);
        assert_eq!(e["problems"][0]["pointer"], "/2");
        assert_eq!(e["problems"][0]["column"], 3);
        assert_eq!(shift_pointer("/0/value", 2), "/2/value");
        assert_eq!(shift_pointer("/1", 2), "/3");
        assert_eq!(shift_pointer("/value", 2), "/value");
        // Small arrays go as they are.
        let b = frame(input, InputFormat::Json, 10);
        assert_eq!(bodies(&b), [String::from_utf8_lossy(input)]);
        assert_eq!(b[0].map.event_lines, [2, 3, 4]);
    }

    #[test]
    fn formats_are_guessed_from_the_name_then_the_content() {
        let ce = br#"{"specversion":"1.0","id":"x"}"#;
        assert_eq!(guess_format(None, ce), InputFormat::Cloudevents);
        assert_eq!(
            guess_format(None, br#"[{"specversion":"1.0"}]"#),
            InputFormat::CloudeventsBatch
        );
        assert_eq!(guess_format(None, br#"{"eventId":"x"}"#), InputFormat::Json);
        assert_eq!(guess_format(None, b"[]"), InputFormat::Json);
        assert_eq!(
            guess_format(None, b"{\"a\":1}\n{\"a\":2}\n"),
            InputFormat::Ndjson
        );
        assert_eq!(
            guess_format(Some(Path::new("x.JSONL")), br#"{"a":1}"#),
            InputFormat::Ndjson
        );
        assert_eq!(guess_format(None, b"[{\"a\":1},"), InputFormat::Json);
    }

    #[test]
    fn times_are_rfc3339_or_plain_dates() {
        assert_eq!(
            rfc3339(parse_time("2026-01-10").unwrap()),
            "2026-01-10T00:00:00Z"
        );
        assert_eq!(
            rfc3339(parse_time("2026-01-10T15:00:00+01:00").unwrap()),
            "2026-01-10T14:00:00Z"
        );
        assert!(parse_time("10/01/2026").is_err());
    }
}
