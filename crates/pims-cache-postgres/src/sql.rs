//! The SQL of the store, written once per table: the entries live in one table
//! `(k bytea primary key, v bytea not null)` (bytea compares byte by byte, so the primary key's
//! order is the store's key order), its schema version in a one-row table beside it.

use std::fmt;

use pims_cache::CacheError;

use crate::options::invalid;

/// The longest name part accepted (PostgreSQL's limit is 63 bytes; `_schema` is appended).
const MAX_PART: usize = 48;

/// A validated table name, optionally schema-qualified.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Table {
    schema: Option<String>,
    name: String,
}

impl Table {
    pub(crate) fn parse(s: &str) -> Result<Table, CacheError> {
        let ok = |part: &str| {
            let mut chars = part.chars();
            part.len() <= MAX_PART
                && chars
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        let reason = "expected [schema.]table: lower-case ASCII letters, digits and _, starting \
                      with a letter or _, at most 48 characters each";
        match s.split_once('.') {
            Some((schema, name)) if ok(schema) && ok(name) => Ok(Table {
                schema: Some(schema.to_owned()),
                name: name.to_owned(),
            }),
            None if ok(s) => Ok(Table {
                schema: None,
                name: s.to_owned(),
            }),
            _ => Err(invalid("table name", reason)),
        }
    }

    /// The schema named, if any.
    pub(crate) fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The quoted, qualified name of this table with `suffix` appended to its name.
    fn quoted(&self, suffix: &str) -> String {
        match &self.schema {
            Some(schema) => format!("\"{schema}\".\"{}{suffix}\"", self.name),
            None => format!("\"{}{suffix}\"", self.name),
        }
    }

    /// The name the advisory lock of migrations is derived from.
    pub(crate) fn lock_name(&self) -> String {
        match &self.schema {
            Some(schema) => format!("pims-cache-postgres:{schema}.{}", self.name),
            None => format!("pims-cache-postgres:{}", self.name),
        }
    }
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Every statement of the store, for one table.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    /// `$1` key → value.
    pub(crate) get: String,
    /// `$1` keys → (key, value) of those present: one snapshot.
    pub(crate) get_many: String,
    /// `$1` key, `$2` value: created if absent (one row affected), else nothing.
    pub(crate) insert_absent: String,
    /// `$1` key, `$2` expected, `$3` new: replaced if it holds `$2`.
    pub(crate) update_if: String,
    /// `$1` key, `$2` expected: removed if it holds `$2`.
    pub(crate) delete_if: String,
    /// `$1` key → the value removed.
    pub(crate) remove: String,
    /// `$1` from (inclusive), `$2` below (exclusive), `$3` limit.
    pub(crate) scan_range: String,
    /// `$1` from (inclusive), `$2` limit.
    pub(crate) scan_from: String,
    /// `$1` keys (sorted), `$2` values to create them with: every key is locked, in key
    /// order, whether it exists (a row lock, nothing written) or not (our uncommitted row, which
    /// holds off any other writer of that key until we end); → the keys created. Inside a
    /// transaction only.
    pub(crate) lock_all: String,
    /// `$1` keys, `$2` values: replaces them.
    pub(crate) set_many: String,
    /// `$1` keys: removes them.
    pub(crate) delete_many: String,
    /// Creates the schema version table (idempotent).
    pub(crate) create_meta: String,
    /// Creates the entries table (idempotent).
    pub(crate) create_entries: String,
    /// → the schema version.
    pub(crate) read_version: String,
    /// `$1` version: records it.
    pub(crate) write_version: String,
    /// `$1` qualified name of the schema version table → whether it exists.
    pub(crate) meta_exists: String,
    /// The qualified name of the schema version table (unquoted, for `to_regclass`).
    pub(crate) meta_regclass: String,
}

impl Sql {
    pub(crate) fn new(table: &Table) -> Sql {
        let t = table.quoted("");
        let meta = table.quoted("_schema");
        Sql {
            get: format!("select v from {t} where k = $1"),
            get_many: format!("select k, v from {t} where k = any($1)"),
            insert_absent: format!(
                "insert into {t} (k, v) values ($1, $2) on conflict (k) do nothing"
            ),
            update_if: format!("update {t} set v = $3 where k = $1 and v = $2"),
            delete_if: format!("delete from {t} where k = $1 and v = $2"),
            remove: format!("delete from {t} where k = $1 returning v"),
            scan_range: format!(
                "select k, v from {t} where k >= $1 and k < $2 order by k limit $3"
            ),
            scan_from: format!("select k, v from {t} where k >= $1 order by k limit $2"),
            // `with ordinality` + `order by n`: the rows are proposed, hence locked, in the
            // order of `$1`, which the caller sorts: two batches never wait on each other in a
            // cycle. `do update ... where false` locks an existing row without changing it.
            lock_all: format!(
                "insert into {t} as t (k, v) \
                 select b.k, b.v from unnest($1::bytea[], $2::bytea[]) with ordinality as b(k, v, n) \
                 order by b.n \
                 on conflict (k) do update set v = t.v where false \
                 returning t.k"
            ),
            set_many: format!(
                "update {t} as t set v = b.v from unnest($1::bytea[], $2::bytea[]) as b(k, v) \
                 where t.k = b.k"
            ),
            delete_many: format!("delete from {t} where k = any($1)"),
            create_meta: format!(
                "create table if not exists {meta} (\
                 one boolean primary key default true check (one), \
                 version integer not null)"
            ),
            create_entries: format!(
                "create table if not exists {t} (k bytea primary key, v bytea not null) \
                 with (fillfactor = 80)"
            ),
            read_version: format!("select version from {meta}"),
            write_version: format!(
                "insert into {meta} (one, version) values (true, $1) \
                 on conflict (one) do update set version = excluded.version"
            ),
            meta_exists: "select to_regclass($1) is not null".to_owned(),
            meta_regclass: meta,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_are_validated_and_quoted() {
        let t = Table::parse("svc.steps_2").unwrap();
        assert_eq!(t.quoted(""), "\"svc\".\"steps_2\"");
        assert_eq!(t.quoted("_schema"), "\"svc\".\"steps_2_schema\"");
        assert_eq!(format!("{t:?}"), "svc.steps_2");
        for bad in [
            "",
            "1abc",
            "a-b",
            "a\"b",
            "a.b.c",
            ".a",
            "a.",
            &"x".repeat(49),
        ] {
            assert!(Table::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Table::parse(&"x".repeat(48)).is_ok());
    }

    #[test]
    fn every_statement_names_the_table() {
        let sql = Sql::new(&Table::parse("tbl").unwrap());
        for s in [&sql.get, &sql.get_many, &sql.lock_all, &sql.scan_from] {
            assert!(s.contains("\"tbl\""), "{s}");
        }
        assert!(sql.read_version.contains("\"tbl_schema\""));
    }
}
