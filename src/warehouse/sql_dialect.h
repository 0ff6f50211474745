// SqlDialect: how one warehouse engine spells the SQL sluice generates: literals, time buckets, the
// aggregates of rollups, and the statements that replace a transform target's rows with its cursor.
// Rollups, models' {{ touched_hours }} and `sluice explain` go through it, so one declaration runs on every
// engine; the engine executes what its dialect spells (Warehouse::WriteTarget).
// Thread-safety: immutable; shared by all.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

// One step of a transform: the rows a target (rollup or model table) gets, and the cursor that moves with
// them. Engines make the rows and the cursor move together (DuckDB: one transaction).
struct TargetWrite {
  enum class Kind {
    kCursorOnly,      // nothing to recompute; only the cursor moves
    kRebuild,         // the whole table becomes `select_sql`
    kRebuildFrom,     // rows with bucket_column >= keep_before_us become `select_sql`; older rows stay
    kReplaceBuckets,  // the rows of `buckets` become select_for(buckets)
  };
  Kind kind = Kind::kCursorOnly;
  std::string table;
  std::string bucket_column;   // the time column buckets are of ("" for a model without one)
  std::string select_sql;      // kRebuild, kRebuildFrom
  int64_t keep_before_us = 0;  // kRebuildFrom
  std::set<int64_t> buckets;   // kReplaceBuckets: bucket starts (micros)
  // kReplaceBuckets: the rows of a set of buckets. An engine may ask for a wider set than `buckets` (whole
  // partitions), so it takes the set rather than assuming `buckets`.
  std::function<std::string(const std::set<int64_t>&)> select_for;
  // The cursor: `table` has absorbed batches up to `cursor_seq`, built from `definition`.
  int64_t cursor_seq = 0;
  std::string definition;
  // Asked by the engine once the new rows are computed and right before they become visible (DuckDB: before
  // COMMIT; ClickHouse: before the first partition is swapped in). An error abandons the write with the
  // target and its cursor unchanged, and is returned. Several workers fence their transform lease here, so
  // a worker whose lease passed on while it computed cannot commit (see core/work_leases.h). Empty: always go.
  std::function<Status()> fence;
};

class SqlDialect {
 public:
  virtual ~SqlDialect() = default;

  virtual std::string Ident(std::string_view name) const;    // "name"
  virtual std::string Literal(std::string_view text) const;  // 'text'
  virtual std::string Timestamp(int64_t micros) const = 0;   // a UTC timestamp literal
  virtual std::string NullTimestamp() const = 0;             // a typed NULL timestamp
  // `expr` (a timestamp) truncated to its `grain` ("hour" | "day") bucket, as a timestamp.
  virtual std::string TimeBucket(std::string_view grain, const std::string& expr) const = 0;
  // `ts_expr` (a timestamp) minus `micros`.
  virtual std::string MinusMicros(const std::string& ts_expr, int64_t micros) const = 0;
  // `expr` (a date or a timestamp) as a timestamp, so it compares with a bound timestamp parameter.
  virtual std::string AsTimestamp(const std::string& expr) const { return expr; }
  // `expr` as text.
  virtual std::string ToText(const std::string& expr) const { return "CAST(" + expr + " AS VARCHAR)"; }
  virtual std::string ApproxDistinct(const std::string& expr) const = 0;
  virtual std::string CountIf(const std::string& predicate) const = 0;
  // The GROUP BY clause of a query whose first `keys` select expressions are `key_exprs`.
  virtual std::string GroupBy(const std::vector<std::string>& key_exprs) const = 0;

  // The statements that perform `write` (without the cursor bookkeeping's transaction framing), for the
  // engine to run and for `sluice explain` to show.
  virtual std::vector<std::string> WriteTargetSql(const TargetWrite& write) const = 0;

  // What `sluice status` shows, as read-only queries over sluice's own tables (they run on readers, locally or
  // through a running sluice's query API).
  struct StatusQueries {
    std::string sources;      // per stream and source: batches, rows, dead_letters, late, newest_event, last_load
    std::string checkpoints;  // source, partition, next_offset, updated_at
    std::string event_time;   // per stream: newest_event, watermark, late, final_hours, open_hours, final_through
    // per collector: last_status, last_rows, last_succeeded_slot, not_succeeded (failed or partial runs),
    // last_error (its start)
    std::string collectors;
  };
  virtual StatusQueries StatusSql() const = 0;

  // "a, b, c" of Timestamp(m) for each of `micros`.
  std::string TimestampList(const std::set<int64_t>& micros) const;
};

// The dialect of the engine `kind` names (duckdb, clickhouse); DuckDB's for an unknown kind.
const SqlDialect& DialectFor(const std::string& kind);

}  // namespace sluice
