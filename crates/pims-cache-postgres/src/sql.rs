//! The SQL of the store, written once per table: the entries live in one table
//! `(k bytea primary key, v bytea not null)` (bytea compares byte by byte, so the primary key's
//! order is the store's key order), its schema version in a one-row table beside it.

use std::fmt;

use pims_cache::CacheError;

use crate::error::invalid;

/// The longest name part accepted (PostgreSQL's limit is 63 bytes; `_schema` and `_swap_all`
/// are appended).
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
    /// `$1` keys → (position in `$1`, 1-based; value) of those present: one snapshot.
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
    /// `$1` keys, `$2` expected values, `$3` new values (a null: absent), in batch order; `$4`
    /// the same keys sorted, `$5` what each absent one is created with while locked: the
    /// whole conditional batch, committed with the statement (the function of
    /// [`create_swap_all`](Sql::create_swap_all)). → one row: the first failing entry
    /// (1-based) and its key's value, or a null position when the batch was made.
    pub(crate) swap_all: String,
    /// Creates (or replaces) the function `swap_all` calls: every key locked in key order,
    /// then the judgement and the writes, two statements of one call.
    pub(crate) create_swap_all: String,
    /// → whether that function exists.
    pub(crate) swap_all_exists: String,
    /// `$1` key, `$2` tag, `$3` prefix → the key's value and, when it starts with the tag, the
    /// value of `$3 ‖ the rest`: one statement, one snapshot.
    pub(crate) get_following: String,
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
        let swap_fn = table.quoted("_swap_all");
        Sql {
            get: format!("select v from {t} where k = $1"),
            get_many: format!(
                "select q.n, t.v from unnest($1::bytea[]) with ordinality as q(k, n) \
                 join {t} as t on t.k = q.k"
            ),
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
            swap_all: format!("select failed_at, failed_value from {swap_fn}($1, $2, $3, $4, $5)"),
            create_swap_all: swap_all_function(&t, &swap_fn),
            swap_all_exists: format!(
                "select to_regprocedure('{}(bytea[], bytea[], bytea[], bytea[], bytea[])') \
                 is not null",
                swap_fn.replace('\'', "''")
            ),
            get_following: format!(
                "select l.v, r.v from {t} as l left join {t} as r \
                   on substring(l.v from 1 for octet_length($2::bytea)) = $2::bytea \
                   and r.k = $3::bytea || substring(l.v from octet_length($2::bytea) + 1) \
                 where l.k = $1"
            ),
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

/// The function behind [`Sql::swap_all`] for the table `t`, named `swap_fn`: one call, so one
/// round trip and one implicit transaction, committed (synchronously) when the call returns.
///
/// A volatile function's statements each take a fresh snapshot (read committed), so the
/// judgement sees the latest committed value of every key the first statement locked. A
/// failing statement aborts the call and with it the transaction: nothing is half-written.
fn swap_all_function(t: &str, swap_fn: &str) -> String {
    format!(
        "create or replace function {swap_fn}(\
           bytea[], bytea[], bytea[], bytea[], bytea[], \
           out failed_at bigint, out failed_value bytea) \
         language plpgsql volatile as $body$ \
         begin \
           {lock}; \
           {judge} \
         end $body$",
        lock = lock_all(t),
        judge = judge_and_write(t),
    )
}

/// Every key of `$4` locked, in that (key) order, whether it exists (a row lock, nothing
/// written) or not (our uncommitted row, created with `$5`'s value, which holds off any other
/// writer of that key until we end). `with ordinality` + `order by n`: two batches never wait
/// on each other in a cycle. `do update ... where false` locks an existing row unchanged.
fn lock_all(t: &str) -> String {
    format!(
        "insert into {t} as t (k, v) \
         select b.k, b.v from unnest($4, $5) with ordinality as b(k, v, n) \
         order by b.n \
         on conflict (k) do update set v = t.v where false"
    )
}

/// Every entry of `$1`/`$2`/`$3` judged against its key's value, once `lock_all` locked them
/// all: a row the lock created has our transaction id as its xmin and counts as absent; every
/// other row is locked, so its latest version is what this statement's snapshot sees. When all
/// hold what they should, the writes left are made; otherwise the rows the lock created are
/// removed and nothing else is written. The first failing entry goes into the out parameters.
/// Data-modifying CTEs run to completion whether or not the final select reads them; each row
/// is written by at most one of them.
fn judge_and_write(t: &str) -> String {
    // The CTEs' names are quoted capitals, which no valid table name equals (a CTE would
    // otherwise hide a table of its name).
    format!(
        "with \"Batch\"(k, e, n, i) as (\
           select * from unnest($1, $2, $3) with ordinality), \
         \"Judged\" as (\
           select b.k, b.e, b.n, b.i, \
             coalesce(t.xmin = pg_current_xact_id()::xid, false) as mine, \
             case when t.xmin = pg_current_xact_id()::xid then null else t.v end as c \
           from \"Batch\" as b left join {t} as t on t.k = b.k), \
         \"Bad\" as (\
           select j.i, j.c from \"Judged\" as j where j.c is distinct from j.e \
           order by j.i limit 1), \
         \"Changed\" as (\
           update {t} as t set v = j.n from \"Judged\" as j \
           where not exists (select 1 from \"Bad\") and t.k = j.k and not j.mine \
             and j.n is not null and j.n is distinct from j.e), \
         \"Removed\" as (\
           delete from {t} as t using \"Judged\" as j where t.k = j.k and \
             case when exists (select 1 from \"Bad\") then j.mine else j.n is null end) \
         select bad.i, bad.c into failed_at, failed_value from \"Bad\" as bad;"
    )
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
        for s in [
            &sql.get,
            &sql.get_many,
            &sql.create_swap_all,
            &sql.get_following,
            &sql.scan_from,
        ] {
            assert!(s.contains("\"tbl\""), "{s}");
        }
        assert!(sql.read_version.contains("\"tbl_schema\""));
        assert!(sql.swap_all.contains("\"tbl_swap_all\"("));
        assert!(sql.create_swap_all.contains("function \"tbl_swap_all\"("));
    }
}
