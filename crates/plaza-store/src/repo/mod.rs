//! The repository ports implemented on [`SqlStore`](crate::SqlStore), one module per trait,
//! and the small query helpers they share.
//!
//! Every mutating method runs in one write transaction that first appends its audit record(s)
//! (which serialises writers, see `chain::append`), then checks the rules a caller can break
//! (so the answer is a precise `Conflict`/`NotFound`, and no failed statement poisons a
//! PostgreSQL transaction), then writes. The exceptions take no audit record: recording a
//! policy decision (the decision log is its own append-only record), and linking or unlinking a
//! registry blob (bookkeeping of uploads).

mod apps;
mod audit;
mod credentials;
mod instances;
mod orgs;
mod policies;
mod registry;
mod scans;
mod supply;
mod teams;
mod tokens;
mod usage;
mod users;
mod vex;

use crate::db::backend_err;
use crate::store::Tx;
use plaza_core::ids::OrgId;
use plaza_core::ports::StoreResult;
use plaza_core::StoreError;

pub use audit::MAX_AUDIT_PAGE;
pub use policies::MAX_DECISION_PAGE;
pub(crate) use users::user_from_row;

/// Whether `sql` (a `SELECT 1 ...` with text parameters `$1`, `$2`, ...) finds a row.
pub(crate) async fn exists(tx: &mut Tx, sql: &str, args: &[&str]) -> StoreResult<bool> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = query.bind(arg.to_string());
    }
    Ok(query
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend_err)?
        .is_some())
}

/// `NotFound` unless `org` exists.
pub(crate) async fn require_org(tx: &mut Tx, org: &OrgId) -> StoreResult<()> {
    if exists(tx, "SELECT 1 FROM orgs WHERE id = $1", &[org.as_str()]).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            entity: "org",
            key: org.to_string(),
        })
    }
}
