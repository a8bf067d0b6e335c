//! How B10 and B11 fill the PostgreSQL table with 1,000,000 lists in well under a minute,
//! with the cache's own rows: a representative set of lists is written through the cache
//! (`StepCache::merge`, so the real key and record encoding of pims-cache, which it does not
//! export), the rows of one of them are read back as a [`ListShape`] (its bytes, with its
//! stepsID and carAssociationID marked), and the rest is made by the server itself, one
//! `INSERT ... SELECT ... FROM generate_series` per row of the shape, the two identifiers
//! spelled out for each list. The shape is checked first against another list the cache wrote
//! (every byte of every row), and lists made by SQL are then read back through the cache.
//!
//! PostgreSQL list `n` is the benchmark's list `PG_FIRST + n` (`bench_list`, `bench_keys`):
//! stepsIDs `200000001 ...` and carAssociationIDs `300000000 ...`: of one width for every list
//! (so every row of one shape has the same length, as the cache would write it), and neither
//! ever inside another list's identifier (with 8-digit stepsIDs, carAssociationID `110000001`
//! would hold stepsID `10000001`).

use std::fmt::Write as _;

use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

use crate::workloads::{CAR_BASE, car_association_id};

/// The benchmark list of PostgreSQL list 0.
pub(crate) const PG_FIRST: u64 = 200_000_000;

/// Lists written through the cache before the rest is replicated by SQL.
pub(crate) const THROUGH_THE_CACHE: usize = 1_000;

/// Lists per `INSERT ... SELECT` statement.
const CHUNK: u64 = 100_000;

/// The stepsID of PostgreSQL list `n`.
pub(crate) fn steps_id(n: u64) -> String {
    (PG_FIRST + n + 1).to_string()
}

/// The carAssociationID of PostgreSQL list `n`.
pub(crate) fn car(n: u64) -> String {
    car_association_id(PG_FIRST + n)
}

/// One piece of a row's key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// These bytes, the same for every list.
    Bytes(Vec<u8>),
    /// The list's stepsID, in ASCII.
    StepsId,
    /// The list's carAssociationID, in ASCII.
    Car,
}

/// The bytes of a key or a value, with the list's identifiers marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    parts: Vec<Part>,
}

impl Pattern {
    /// `bytes` of PostgreSQL list `n`, every occurrence of its identifiers marked.
    pub(crate) fn of(bytes: &[u8], n: u64) -> Pattern {
        let (sid, car) = (steps_id(n), car(n));
        let mut parts = Vec::new();
        let mut literal = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let found = [(car.as_bytes(), Part::Car), (sid.as_bytes(), Part::StepsId)]
                .into_iter()
                .find(|(id, _)| rest.starts_with(id));
            match found {
                Some((id, part)) => {
                    if !literal.is_empty() {
                        parts.push(Part::Bytes(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                    rest = &rest[id.len()..];
                }
                None => {
                    literal.push(rest[0]);
                    rest = &rest[1..];
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Bytes(literal));
        }
        Pattern { parts }
    }

    /// Whether it names the list at all.
    pub(crate) fn names_the_list(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Bytes(_)))
    }

    /// Whether it holds the stepsID (a list record's key does).
    pub(crate) fn has_steps_id(&self) -> bool {
        self.parts.contains(&Part::StepsId)
    }

    /// The bytes for PostgreSQL list `n`.
    pub(crate) fn render(&self, n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Bytes(b) => out.extend_from_slice(b),
                Part::StepsId => out.extend_from_slice(steps_id(n).as_bytes()),
                Part::Car => out.extend_from_slice(car(n).as_bytes()),
            }
        }
        out
    }

    /// The same as a SQL expression of the list number `g` (bigint); its literal bytes are
    /// parameters, appended to `params` (numbered from `params.len() + 1`).
    fn sql(&self, params: &mut Vec<Vec<u8>>) -> String {
        let mut expr = String::new();
        for p in &self.parts {
            if !expr.is_empty() {
                expr.push_str(" || ");
            }
            match p {
                Part::Bytes(b) => {
                    params.push(b.clone());
                    let _ = write!(expr, "${}::bytea", params.len());
                }
                Part::StepsId => {
                    let _ = write!(expr, "convert_to((g + {})::text, 'UTF8')", PG_FIRST + 1);
                }
                Part::Car => {
                    let _ = write!(
                        expr,
                        "convert_to((g + {})::text, 'UTF8')",
                        CAR_BASE + PG_FIRST
                    );
                }
            }
        }
        if expr.is_empty() {
            expr.push_str("''::bytea");
        }
        expr
    }
}

/// Every row the cache keeps for one list (its record, its index entry), as patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListShape {
    rows: Vec<(Pattern, Pattern)>,
}

impl ListShape {
    /// The shape of the rows `(key, value)` of PostgreSQL list `n`.
    pub(crate) fn of(rows: &[(Vec<u8>, Vec<u8>)], n: u64) -> Result<ListShape, String> {
        let rows: Vec<(Pattern, Pattern)> = rows
            .iter()
            .map(|(k, v)| (Pattern::of(k, n), Pattern::of(v, n)))
            .collect();
        if !rows.iter().any(|(k, _)| k.has_steps_id()) {
            return Err(format!(
                "no row of list {n} has its stepsID in its key (no list record)"
            ));
        }
        if let Some((k, _)) = rows.iter().find(|(k, _)| !k.names_the_list()) {
            return Err(format!(
                "a row of list {n} has a key that does not name it: {:?}",
                k.render(n)
            ));
        }
        Ok(ListShape { rows })
    }

    /// The rows of PostgreSQL list `n`, sorted by key.
    pub(crate) fn render(&self, n: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut rows: Vec<_> = self
            .rows
            .iter()
            .map(|(k, v)| (k.render(n), v.render(n)))
            .collect();
        rows.sort();
        rows
    }

    /// The key of list `n`'s record (the row whose key holds its stepsID).
    pub(crate) fn record_key(&self, n: u64) -> Vec<u8> {
        self.record().0.render(n)
    }

    fn record(&self) -> &(Pattern, Pattern) {
        // `of` made sure there is one.
        self.rows
            .iter()
            .find(|(k, _)| k.has_steps_id())
            .unwrap_or(&self.rows[0])
    }

    /// One `INSERT ... SELECT` per row of the shape, making lists `first..end`; each with its
    /// parameters.
    pub(crate) fn inserts(&self, table: &str, first: u64, end: u64) -> Vec<(String, Vec<Vec<u8>>)> {
        self.rows
            .iter()
            .map(|(k, v)| {
                let mut params = Vec::new();
                let key = k.sql(&mut params);
                let value = v.sql(&mut params);
                (
                    format!(
                        "insert into {table} (k, v) select {key}, {value} \
                         from generate_series({first}::bigint, {}::bigint) as g",
                        end.saturating_sub(1)
                    ),
                    params,
                )
            })
            .collect()
    }
}

/// The rows of PostgreSQL list `n` in `table`: every row whose key or value holds its stepsID
/// or carAssociationID (a full scan: done while the table holds the cache's lists only).
pub(crate) async fn rows_of(
    client: &Client,
    table: &str,
    n: u64,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>, String> {
    let (sid, car) = (steps_id(n).into_bytes(), car(n).into_bytes());
    let rows = client
        .query(
            &format!(
                "select k, v from {table} where position($1 in k) > 0 or position($1 in v) > 0 \
                 or position($2 in k) > 0 or position($2 in v) > 0 order by k"
            ),
            &[&sid, &car],
        )
        .await
        .map_err(|e| format!("the rows of list {n}: {e}"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Makes lists `first..end` by SQL, in chunks, on the given connections at once.
pub(crate) async fn replicate(
    clients: &[&Client],
    shape: &ListShape,
    table: &str,
    first: u64,
    end: u64,
) -> Result<(), String> {
    let chunks: Vec<(u64, u64)> = (first..end)
        .step_by(CHUNK as usize)
        .map(|a| (a, (a + CHUNK).min(end)))
        .collect();
    let per_client = chunks.len().div_ceil(clients.len().max(1)).max(1);
    let work = clients
        .iter()
        .zip(chunks.chunks(per_client))
        .map(|(client, mine)| async move {
            for (a, b) in mine {
                for (sql, params) in shape.inserts(table, *a, *b) {
                    let refs: Vec<&(dyn ToSql + Sync)> =
                        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                    client
                        .execute(sql.as_str(), &refs)
                        .await
                        .map_err(|e| format!("replicating lists {a}..{b}: {e}"))?;
                }
            }
            Ok::<(), String>(())
        });
    futures_util::future::try_join_all(work).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows shaped like the cache's: a record keyed by the stepsID holding the
    /// carAssociationID, an index entry keyed by the carAssociationID pointing to the stepsID.
    fn rows(n: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut record_key = b"L\x01".to_vec();
        record_key.extend_from_slice(steps_id(n).as_bytes());
        let mut record = b"\x02\x03\x09".to_vec();
        record.extend_from_slice(car(n).as_bytes());
        record.extend_from_slice(b"\x03\x01\x01\x02");
        let mut index_key = b"I\x01c".to_vec();
        index_key.extend_from_slice(car(n).as_bytes());
        let mut target = b"\x02".to_vec();
        target.extend_from_slice(steps_id(n).as_bytes());
        let mut rows = vec![(record_key, record), (index_key, target)];
        rows.sort();
        rows
    }

    #[test]
    fn identifiers_have_one_width() {
        assert_eq!(steps_id(0), "200000001");
        assert_eq!(steps_id(999_999).len(), 9);
        assert_eq!(car(0), "300000000");
        assert_eq!(car(999_999).len(), 9);
        // No identifier of one list inside another's: rows are found by them.
        for (a, b) in [(0, 1), (1, 0), (5, 999_999), (999_999, 5)] {
            assert!(!car(a).contains(&steps_id(b)), "{a} {b}");
            assert!(!steps_id(a).contains(&car(b)), "{a} {b}");
        }
    }

    #[test]
    fn a_shape_renders_every_other_list() {
        let shape = ListShape::of(&rows(0), 0).unwrap();
        for n in [1, 7, 999, 123_456, 999_999] {
            assert_eq!(shape.render(n), rows(n), "list {n}");
        }
        assert_eq!(shape.record_key(5), rows(5)[1].0);
        assert_eq!(shape.record().1.render(5), rows(5)[1].1);
    }

    #[test]
    fn a_shape_needs_a_record_and_keys_that_name_the_list() {
        let e = ListShape::of(&[(b"I\x01c300000000".to_vec(), b"\x02x".to_vec())], 0).unwrap_err();
        assert!(e.contains("no list record"), "{e}");
        let mut with_foreign = rows(0);
        with_foreign.push((b"d".to_vec(), steps_id(0).into_bytes()));
        let e = ListShape::of(&with_foreign, 0).unwrap_err();
        assert!(e.contains("does not name it"), "{e}");
    }

    #[test]
    fn the_insert_spells_out_the_identifiers() {
        let shape = ListShape::of(&rows(0), 0).unwrap();
        let inserts = shape.inserts("t", 1000, 2000);
        assert_eq!(inserts.len(), 2);
        let (sql, params) = &inserts[1]; // the record: L\x01 <sid> -> \x02\x03\x09 <car> ...
        assert_eq!(
            sql,
            "insert into t (k, v) select $1::bytea || convert_to((g + 200000001)::text, 'UTF8'), \
             $2::bytea || convert_to((g + 300000000)::text, 'UTF8') || $3::bytea \
             from generate_series(1000::bigint, 1999::bigint) as g"
        );
        assert_eq!(
            params,
            &[
                b"L\x01".to_vec(),
                b"\x02\x03\x09".to_vec(),
                b"\x03\x01\x01\x02".to_vec()
            ]
        );
    }
}
