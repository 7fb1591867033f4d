//! Reading stored usage: rollup buckets, raw events with their corrections (for exact
//! recomputation), corrections by arrival, totals, and the instances' sequence ranges.

use super::columns::{decimal, event_from_row, opt_decimal, EVENT_COLUMNS};
use super::sequences::tracker_from_text;
use crate::db::{backend_err, millis, Cols};
use crate::store::SqlStore;
use chrono::{DateTime, Utc};
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;
use plaza_core::usage::{
    InstanceSequences, LatestValue, RollupBucket, StoredCorrection, UsageScope,
};
use plaza_metering::ValidatedEvent;
use sqlx::any::AnyRow;

/// A parameter of a query built at run time.
enum Param {
    Text(String),
    Int(i64),
}

/// A `WHERE` clause built from optional filters, numbering parameters as it goes.
struct Filter {
    sql: String,
    params: Vec<Param>,
}

impl Filter {
    fn new(org: &OrgId) -> Filter {
        Filter {
            sql: String::new(),
            params: vec![Param::Text(org.as_str().to_owned())],
        }
    }

    /// Adds `AND <column> <op> $n`.
    fn and(&mut self, column: &str, op: &str, value: Param) -> &mut Filter {
        self.params.push(value);
        self.sql
            .push_str(&format!(" AND {column} {op} ${}", self.params.len()));
        self
    }

    fn text(&mut self, column: &str, value: Option<&str>) -> &mut Filter {
        if let Some(v) = value {
            self.and(column, "=", Param::Text(v.to_owned()));
        }
        self
    }

    /// Adds `AND <column> IN ($n, …)` when `values` is given; an empty list matches nothing.
    fn one_of(&mut self, column: &str, values: Option<&[String]>) -> &mut Filter {
        match values {
            None => {}
            Some([]) => self.sql.push_str(" AND 1 = 0"),
            Some(values) => {
                let first = self.params.len() + 1;
                self.params
                    .extend(values.iter().map(|v| Param::Text(v.clone())));
                let list: Vec<String> = (first..first + values.len())
                    .map(|n| format!("${n}"))
                    .collect();
                self.sql
                    .push_str(&format!(" AND {column} IN ({})", list.join(", ")));
            }
        }
        self
    }

    /// The scope's app, instance and version filters on the columns of `prefix` (`""` or an
    /// alias and a dot).
    fn scoped(&mut self, prefix: &str, scope: &UsageScope) -> &mut Filter {
        self.text(&format!("{prefix}app_id"), scope.app_id.as_deref())
            .text(
                &format!("{prefix}instance_id"),
                scope.instance_id.as_deref(),
            )
            .one_of(
                &format!("{prefix}instance_id"),
                scope.instance_ids.as_deref(),
            )
            .text(&format!("{prefix}app_version"), scope.version.as_deref())
    }

    async fn fetch(&self, store: &SqlStore, sql: &str) -> StoreResult<Vec<AnyRow>> {
        let mut q = sqlx::query(sql);
        for p in &self.params {
            q = match p {
                Param::Text(t) => q.bind(t.clone()),
                Param::Int(i) => q.bind(*i),
            };
        }
        q.fetch_all(store.pool()).await.map_err(backend_err)
    }
}

/// The rollup buckets in scope.
pub(super) async fn rollup_buckets(
    store: &SqlStore,
    org: &OrgId,
    scope: &UsageScope,
) -> StoreResult<Vec<RollupBucket>> {
    let mut f = Filter::new(org);
    f.and("metric", "=", Param::Text(scope.metric.clone()))
        .and("bucket", ">=", Param::Int(millis(scope.from)))
        .and("bucket", "<", Param::Int(millis(scope.until)))
        .scoped("", scope);
    let sql = format!(
        "SELECT app_id, metric, instance_id, app_version, bucket, sum_value, event_count, \
         max_value, latest_at, latest_event_id, latest_value, corrected FROM usage_rollups \
         WHERE org_id = $1{} ORDER BY app_id, instance_id, app_version, bucket",
        f.sql
    );
    f.fetch(store, &sql)
        .await?
        .iter()
        .map(|row| {
            let c = Cols::of(row, "usage rollup");
            let latest = match c.opt_instant("latest_at")? {
                Some(at) => Some(LatestValue {
                    at,
                    event_id: c
                        .get::<Option<String>>("latest_event_id")?
                        .unwrap_or_default(),
                    value: opt_decimal(&c, "latest_value")?.unwrap_or_default(),
                }),
                None => None,
            };
            Ok(RollupBucket {
                app_id: c.get("app_id")?,
                metric: c.get("metric")?,
                instance_id: c.get("instance_id")?,
                version: c.get("app_version")?,
                bucket: c.instant("bucket")?,
                sum: decimal(&c, "sum_value")?,
                count: u64::try_from(c.get::<i64>("event_count")?).unwrap_or(0),
                max: opt_decimal(&c, "max_value")?,
                latest,
                corrected: c.get::<i64>("corrected")? != 0,
            })
        })
        .collect()
}

/// The usage events in scope and every correction of them.
pub(super) async fn usage_events(
    store: &SqlStore,
    org: &OrgId,
    scope: &UsageScope,
) -> StoreResult<Vec<ValidatedEvent>> {
    let scoped = |prefix: &str| {
        let mut f = Filter::new(org);
        f.and(
            &format!("{prefix}metric"),
            "=",
            Param::Text(scope.metric.clone()),
        )
        .and(
            &format!("{prefix}occurred_at"),
            ">=",
            Param::Int(millis(scope.from)),
        )
        .and(
            &format!("{prefix}occurred_at"),
            "<",
            Param::Int(millis(scope.until)),
        )
        .scoped(prefix, scope);
        f
    };
    let usage = scoped("");
    let mut events: Vec<ValidatedEvent> = usage
        .fetch(
            store,
            &format!(
                "SELECT {EVENT_COLUMNS} FROM usage_events WHERE org_id = $1 \
                 AND kind = 'usage'{} ORDER BY occurred_at, event_id",
                usage.sql
            ),
        )
        .await?
        .iter()
        .map(event_from_row)
        .collect::<StoreResult<_>>()?;
    let corrected = scoped("u.");
    let columns: Vec<String> = EVENT_COLUMNS
        .split(", ")
        .map(|c| format!("c.{}", c.trim()))
        .collect();
    for row in corrected
        .fetch(
            store,
            &format!(
                "SELECT {} FROM usage_events c JOIN usage_events u ON u.org_id = c.org_id \
                 AND u.app_id = c.app_id AND u.event_id = c.correction_of \
                 WHERE c.org_id = $1 AND c.kind <> 'usage' AND u.kind = 'usage'{} \
                 ORDER BY c.received_at, c.event_id",
                columns.join(", "),
                corrected.sql
            ),
        )
        .await?
    {
        events.push(event_from_row(&row)?);
    }
    Ok(events)
}

/// The corrections received at or after `since`.
pub(super) async fn corrections(
    store: &SqlStore,
    org: &OrgId,
    app_id: Option<&str>,
    since: DateTime<Utc>,
) -> StoreResult<Vec<StoredCorrection>> {
    let mut f = Filter::new(org);
    f.and("c.received_at", ">=", Param::Int(millis(since)))
        .text("c.app_id", app_id);
    let columns: Vec<String> = EVENT_COLUMNS
        .split(", ")
        .map(|c| format!("c.{}", c.trim()))
        .collect();
    f.fetch(
        store,
        &format!(
            "SELECT {}, u.occurred_at AS corrects_occurred_at FROM usage_events c \
             JOIN usage_events u ON u.org_id = c.org_id AND u.app_id = c.app_id \
             AND u.event_id = c.correction_of \
             WHERE c.org_id = $1 AND c.kind <> 'usage'{} ORDER BY c.received_at, c.event_id",
            columns.join(", "),
            f.sql
        ),
    )
    .await?
    .iter()
    .map(|row| {
        let c = Cols::of(row, "usage correction");
        Ok(StoredCorrection {
            correction: event_from_row(row)?,
            received_at: c.instant("received_at")?,
            corrects_occurred_at: c.instant("corrects_occurred_at")?,
        })
    })
    .collect()
}

/// The sequence ranges of the org's instances.
pub(super) async fn instance_sequences(
    store: &SqlStore,
    org: &OrgId,
    app_id: Option<&str>,
    instance_id: Option<&str>,
) -> StoreResult<Vec<InstanceSequences>> {
    let mut f = Filter::new(org);
    f.text("app_id", app_id).text("instance_id", instance_id);
    f.fetch(
        store,
        &format!(
            "SELECT app_id, instance_id, ranges FROM usage_sequences WHERE org_id = $1{} \
             ORDER BY app_id, instance_id",
            f.sql
        ),
    )
    .await?
    .iter()
    .map(|row| {
        let c = Cols::of(row, "usage sequences");
        let text: String = c.get("ranges")?;
        Ok(InstanceSequences {
            app_id: c.get("app_id")?,
            instance_id: c.get("instance_id")?,
            seen: tracker_from_text(&c, &text)?,
        })
    })
    .collect()
}
