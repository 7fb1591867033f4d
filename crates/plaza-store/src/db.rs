//! Mapping sqlx errors and rows onto the domain: driver errors become [`StoreError`] variants
//! (a constraint violation is never a backend error), columns become typed values, and
//! instants are kept as unix milliseconds.

use chrono::{DateTime, TimeZone, Utc};
use plaza_core::ports::StoreResult;
use plaza_core::StoreError;
use sqlx::any::AnyRow;
use sqlx::error::ErrorKind;
use sqlx::{Decode, Row, Type};

/// A driver failure with no better meaning: for logs.
pub(crate) fn backend_err(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A failed write of `entity`. Callers check the rules users can break before writing, so a
/// constraint violation here means a clash on something the checks do not cover (such as a
/// duplicate id); it is still reported as a conflict, not as a backend failure.
pub(crate) fn write_err(entity: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict {
                entity,
                detail: format!("the {entity} clashes with an existing one (same id or key)"),
            },
            ErrorKind::ForeignKeyViolation => StoreError::NotFound {
                entity,
                key: format!("a record this {entity} refers to"),
            },
            _ => backend_err(e),
        },
        _ => backend_err(e),
    }
}

/// Milliseconds since the epoch, the form instants are stored in.
pub(crate) fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// Reads the columns of one row of `entity`, turning decoding problems into
/// [`StoreError::Corrupt`].
pub(crate) struct Cols<'r> {
    row: &'r AnyRow,
    entity: &'static str,
}

impl<'r> Cols<'r> {
    /// Columns of `row`, a record of `entity`.
    pub(crate) fn of(row: &'r AnyRow, entity: &'static str) -> Self {
        Self { row, entity }
    }

    /// A column of any decodable type.
    pub(crate) fn get<T>(&self, col: &str) -> StoreResult<T>
    where
        T: Decode<'r, sqlx::Any> + Type<sqlx::Any>,
    {
        self.row
            .try_get(col)
            .map_err(|e| self.corrupt(format!("column `{col}`: {e}")))
    }

    /// An instant stored as milliseconds.
    pub(crate) fn instant(&self, col: &str) -> StoreResult<DateTime<Utc>> {
        let ms: i64 = self.get(col)?;
        self.to_instant(col, ms)
    }

    /// An optional instant stored as milliseconds.
    pub(crate) fn opt_instant(&self, col: &str) -> StoreResult<Option<DateTime<Utc>>> {
        let ms: Option<i64> = self.get(col)?;
        ms.map(|ms| self.to_instant(col, ms)).transpose()
    }

    /// A JSON value stored as text.
    pub(crate) fn json(&self, col: &str) -> StoreResult<serde_json::Value> {
        let text: String = self.get(col)?;
        serde_json::from_str(&text).map_err(|e| self.corrupt(format!("column `{col}`: {e}")))
    }

    /// A corruption error about this row.
    pub(crate) fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            entity: self.entity,
            detail,
        }
    }

    fn to_instant(&self, col: &str, ms: i64) -> StoreResult<DateTime<Utc>> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .ok_or_else(|| self.corrupt(format!("column `{col}`: {ms} is not an instant")))
    }
}
