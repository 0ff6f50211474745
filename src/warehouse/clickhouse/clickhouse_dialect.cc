#include "warehouse/clickhouse/clickhouse_dialect.h"

#include <cstdio>

#include "core/time.h"
#include "warehouse/clickhouse/clickhouse_schema.h"

namespace sluice {

std::string ClickHouseDialect::Ident(std::string_view name) const { return ChIdent(name); }
std::string ClickHouseDialect::Literal(std::string_view text) const { return ChLiteral(text); }

std::string ClickHouseDialect::Timestamp(int64_t micros) const {
  // Whole seconds (DateTime); the floor, so a bucket start stays a bucket start.
  int64_t seconds = FloorDiv(micros, kMicrosPerSecond) * kMicrosPerSecond;
  return "toDateTime('" + FormatSqlTimestamp(seconds) + "', 'UTC')";
}

std::string ClickHouseDialect::TimeBucket(std::string_view grain, const std::string& expr) const {
  // With the time zone named, the bucket is a UTC hour/day whatever the server's zone, typed DateTime('UTC').
  return std::string(grain == "day" ? "toStartOfDay(" : "toStartOfHour(") + expr + ", 'UTC')";
}

std::string ClickHouseDialect::GroupBy(const std::vector<std::string>& key_exprs) const {
  std::string out;
  for (const auto& k : key_exprs) out += (out.empty() ? "GROUP BY " : ", ") + k;
  return out;
}

std::string ClickHouseDialect::PartitionBy(const std::string& bucket_column) const {
  return bucket_column.empty() ? "tuple()" : "toDate(" + Ident(bucket_column) + ")";
}

std::string ClickHouseDialect::OrderBy(const std::string& bucket_column) const {
  // Only the bucket: dimensions are Nullable (raw columns are), which a 18.16 sorting key refuses.
  return bucket_column.empty() ? "tuple()" : Ident(bucket_column);
}

std::string ClickHouseDialect::PartitionId(int32_t day) {
  std::string iso = FormatIsoDate(day);  // YYYY-MM-DD
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
}

std::set<int64_t> ClickHouseDialect::HoursOfDays(const std::set<int64_t>& buckets) {
  std::set<int64_t> hours;
  for (int64_t b : buckets) {
    int64_t day = static_cast<int64_t>(DayOf(b)) * kMicrosPerDay;
    for (int h = 0; h < 24; ++h) hours.insert(day + h * kMicrosPerHour);
  }
  return hours;
}

std::vector<std::string> ClickHouseDialect::StageSql(const std::string& stage_name, const std::string& table,
                                                     const std::string& bucket_column, const std::string& select_sql,
                                                     bool like_target) const {
  const std::string stage = Ident(stage_name);
  const std::string engine =
      " ENGINE = MergeTree() PARTITION BY " + PartitionBy(bucket_column) + " ORDER BY " + OrderBy(bucket_column);
  if (like_target)
    return {"DROP TABLE IF EXISTS " + stage, "CREATE TABLE " + stage + " AS " + Ident(table) + engine,
            "INSERT INTO " + stage + " SELECT * FROM (" + select_sql + ")"};
  return {"DROP TABLE IF EXISTS " + stage, "CREATE TABLE " + stage + engine + " AS " + select_sql};
}

std::vector<std::string> ClickHouseDialect::WriteTargetSql(const TargetWrite& w) const {
  const std::string table = Ident(w.table), stage = Ident(StagingTable(w.table));
  std::vector<std::string> out;
  switch (w.kind) {
    case TargetWrite::Kind::kCursorOnly:
      return {};
    case TargetWrite::Kind::kRebuild:
    case TargetWrite::Kind::kRebuildFrom: {
      out = StageSql(StagingTable(w.table), w.table, w.bucket_column, w.select_sql, false);
      std::string which = w.kind == TargetWrite::Kind::kRebuild
                              ? "every partition of the table and of the stage"
                              : "every partition of the table and of the stage from " +
                                    PartitionId(DayOf(w.keep_before_us)) + " on (older days are kept)";
      out.push_back("-- for " + which +
                    " (a new table, or one whose columns changed, is built like the stage first and renamed in):\n"
                    "ALTER TABLE " +
                    table + " REPLACE PARTITION ID '<id>' FROM " + stage);
      out.push_back("DROP TABLE " + stage);
      return out;
    }
    case TargetWrite::Kind::kReplaceBuckets: {
      StagedWrite steps = ReplaceBucketsSql(w, StagingTable(w.table));
      out = std::move(steps.stage);
      out.insert(out.end(), steps.swap.begin(), steps.swap.end());
      return out;
    }
  }
  return out;
}

ClickHouseDialect::StagedWrite ClickHouseDialect::ReplaceBucketsSql(const TargetWrite& w,
                                                                    const std::string& stage_name) const {
  if (w.buckets.empty()) return {};
  const std::string table = Ident(w.table), stage = Ident(stage_name);
  const std::set<int64_t> hours = HoursOfDays(w.buckets);
  StagedWrite out;
  out.stage = StageSql(stage_name, w.table, w.bucket_column, w.select_for(hours), true);
  std::set<int32_t> days;
  for (int64_t h : hours) days.insert(DayOf(h));
  for (int32_t d : days)
    out.swap.push_back("ALTER TABLE " + table + " REPLACE PARTITION ID '" + PartitionId(d) + "' FROM " + stage);
  out.swap.push_back("DROP TABLE " + stage);
  return out;
}

// The ledger carries the checkpoints as parallel arrays; a batch's copies (before a merge) carry the same
// values, so FINAL and max() agree.
SqlDialect::StatusQueries ClickHouseDialect::StatusSql() const {
  return {"SELECT stream, source, count() AS batches, sum(rows) AS rows, sum(dead_rows) AS dead_letters, "
          "sum(late_rows) AS late, toDateTime(intDiv(max(max_event_us), 1000000)) AS newest_event, "
          "max(loaded_at) AS last_load FROM _sluice_batches FINAL GROUP BY stream, source ORDER BY stream, source",
          "SELECT source, part AS `partition`, max(next) AS next_offset, max(loaded_at) AS updated_at "
          "FROM _sluice_batches FINAL ARRAY JOIN part_names AS part, part_next AS next "
          "GROUP BY source, part ORDER BY source, part",
          "SELECT stream, newest_event, watermark, late, final_hours, open_hours, final_through FROM "
          "(SELECT stream, max_event_time AS newest_event, watermark, late_rows AS late FROM _sluice_watermarks) "
          "ANY LEFT JOIN (SELECT stream, countIf(final) AS final_hours, countIf(NOT final) AS open_hours, "
          "maxIf(hour, final) AS final_through FROM _sluice_hours GROUP BY stream) USING stream ORDER BY stream",
          "SELECT collector, argMax(status, started_us) AS last_status, argMax(rows, started_us) AS last_rows, "
          "toDateTime(intDiv(maxIf(scheduled_us, status = 'succeeded'), 1000000)) AS last_succeeded_slot, "
          "countIf(status IN ('failed', 'partial')) AS not_succeeded, "
          "argMax(substring(error, 1, 100), started_us) AS last_error "
          "FROM _sluice_runs FINAL GROUP BY collector ORDER BY collector"};
}

}  // namespace sluice
