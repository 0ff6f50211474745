// ClickHouseDialect: ClickHouse's spelling of the SQL sluice generates (sql_dialect.h), for the 18.16 server
// Debian ships and the releases after it.
//
// Timestamps are DateTime('UTC') (whole seconds: 18.16 has no DateTime64), buckets toStartOfHour/toStartOfDay
// in UTC, approx_distinct is uniq, GROUP BY lists its expressions (no GROUP BY ALL in 18.16).
//
// A transform target is a MergeTree table PARTITION BY toDate(<bucket column>) ORDER BY <bucket column>
// (a model without a time column: one partition, `tuple()`). Its rows change by whole days: the rows of every
// hour of a touched day are computed into a staging table of the same structure, and each day's partition
// is swapped in with `ALTER TABLE t REPLACE PARTITION ID 'YYYYMMDD' FROM staging`, which is atomic per day and
// idempotent; a day the recompute has no rows for becomes empty. ClickHouseWarehouse::WriteTarget runs these
// statements and then writes the cursor (README.md "Transforms").
// Thread-safety: immutable.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "warehouse/sql_dialect.h"

namespace sluice {

class ClickHouseDialect final : public SqlDialect {
 public:
  std::string Ident(std::string_view name) const override;    // `name`
  std::string Literal(std::string_view text) const override;  // 'text' with \ and ' escaped
  std::string Timestamp(int64_t micros) const override;       // toDateTime('2026-11-01 10:00:00', 'UTC')
  std::string NullTimestamp() const override { return "CAST(NULL AS Nullable(DateTime('UTC')))"; }
  std::string TimeBucket(std::string_view grain, const std::string& expr) const override;
  // `ts_expr` minus whole seconds (DateTime arithmetic is in seconds; 18.16 has no sub-second timestamps).
  // 18.16 compares a Date with a DateTime as their numbers (days against seconds).
  std::string AsTimestamp(const std::string& expr) const override { return "toDateTime(" + expr + ")"; }
  std::string ToText(const std::string& expr) const override { return "toString(" + expr + ")"; }
  std::string MinusMicros(const std::string& ts_expr, int64_t micros) const override {
    return "(" + ts_expr + " - " + std::to_string(micros / 1'000'000) + ")";
  }
  std::string ApproxDistinct(const std::string& expr) const override { return "uniq(" + expr + ")"; }
  std::string CountIf(const std::string& predicate) const override { return "countIf(" + predicate + ")"; }
  std::string GroupBy(const std::vector<std::string>& key_exprs) const override;
  // kReplaceBuckets: the statements WriteTarget runs, with the writer's own stage in place of
  // `_sluice_stage_<table>`. kRebuild, kRebuildFrom: the plan for a new table (WriteTarget also swaps
  // partitions of an existing table of the same structure; see the .cc).
  std::vector<std::string> WriteTargetSql(const TargetWrite& write) const override;
  StatusQueries StatusSql() const override;

  // ---- Shared with ClickHouseWarehouse ----
  // kReplaceBuckets in its two steps: `stage` computes the days' rows into the staging table (the long part),
  // `swap` replaces the target's partitions from it and drops it. WriteTarget fences between the two.
  struct StagedWrite {
    std::vector<std::string> stage, swap;
  };
  StagedWrite ReplaceBucketsSql(const TargetWrite& write, const std::string& stage) const;
  // The staging table of `table` for one writer: `_sluice_stage_<writer>_<table>`, a plain MergeTree on the
  // server that computes. Each ClickHouseWarehouse stages under a writer id of its own, so an owner whose
  // lease passed on while it computed never drops or fills its successor's stage. Without a writer:
  // `_sluice_stage_<table>`, as plans show it (and as sluice before writer ids named it).
  static std::string StagingTable(const std::string& table, const std::string& writer = "") {
    return "_sluice_stage_" + (writer.empty() ? "" : writer + "_") + table;
  }
  // PARTITION BY and ORDER BY of a target whose time column is `bucket_column` ("" for none).
  std::string PartitionBy(const std::string& bucket_column) const;
  std::string OrderBy(const std::string& bucket_column) const;
  // The partition id of a day partition ("20261101").
  static std::string PartitionId(int32_t day);
  // Every hour of every day that `buckets` (bucket starts, micros) fall on: what a kReplaceBuckets write
  // recomputes, so whole day partitions can be swapped.
  static std::set<int64_t> HoursOfDays(const std::set<int64_t>& buckets);
  // The statements that fill `stage` (a staging table of `table`) with `select_sql`: an existing target's
  // structure (`like_target`), or the select's own (a new table).
  std::vector<std::string> StageSql(const std::string& stage, const std::string& table,
                                    const std::string& bucket_column, const std::string& select_sql,
                                    bool like_target) const;
};

}  // namespace sluice
