#include "warehouse/duckdb/duckdb_dialect.h"

#include "core/time.h"

namespace sluice {

std::string DuckDbDialect::Timestamp(int64_t micros) const { return "TIMESTAMP '" + FormatSqlTimestamp(micros) + "'"; }

std::string DuckDbDialect::TimeBucket(std::string_view grain, const std::string& expr) const {
  return "date_trunc('" + std::string(grain) + "', " + expr + ")::TIMESTAMP";
}

SqlDialect::StatusQueries DuckDbDialect::StatusSql() const {
  return {"SELECT stream, source, count(*) AS batches, sum(rows) AS rows, sum(dead_rows) AS dead_letters, "
          "sum(late_rows) AS late, max(max_event_time) AS newest_event, max(loaded_at) AS last_load "
          "FROM _sluice_batches GROUP BY ALL ORDER BY ALL",
          "SELECT source, \"partition\", next_offset, updated_at FROM _sluice_checkpoints ORDER BY ALL",
          "SELECT w.stream, w.max_event_time AS newest_event, w.watermark, w.late_rows AS late, "
          "count(*) FILTER (h.final) AS final_hours, count(*) FILTER (NOT h.final) AS open_hours, "
          "max(h.hour) FILTER (h.final) AS final_through FROM _sluice_watermarks w "
          "LEFT JOIN _sluice_hours h USING (stream) GROUP BY ALL ORDER BY ALL",
          "SELECT collector, arg_max(status, started_at) AS last_status, arg_max(\"rows\", started_at) AS last_rows, "
          "max(scheduled_at) FILTER (status = 'succeeded') AS last_succeeded_slot, "
          "count(*) FILTER (status IN ('failed', 'partial')) AS not_succeeded, "
          "arg_max(left(coalesce(error, ''), 100), started_at) AS last_error "
          "FROM _sluice_runs GROUP BY collector ORDER BY collector"};
}

std::vector<std::string> DuckDbDialect::WriteTargetSql(const TargetWrite& w) const {
  const std::string table = Ident(w.table);
  switch (w.kind) {
    case TargetWrite::Kind::kCursorOnly:
      return {};
    case TargetWrite::Kind::kRebuild:
      return {"CREATE OR REPLACE TABLE " + table + " AS " + w.select_sql};
    case TargetWrite::Kind::kRebuildFrom:
      return {"DELETE FROM " + table + " WHERE " + Ident(w.bucket_column) + " >= " + Timestamp(w.keep_before_us),
              "INSERT INTO " + table + " SELECT * FROM (" + w.select_sql + ")"};
    case TargetWrite::Kind::kReplaceBuckets:
      if (w.buckets.empty()) return {};
      return {"DELETE FROM " + table + " WHERE " + Ident(w.bucket_column) + " IN (" + TimestampList(w.buckets) + ")",
              "INSERT INTO " + table + " SELECT * FROM (" + w.select_for(w.buckets) + ")"};
  }
  return {};
}

}  // namespace sluice
