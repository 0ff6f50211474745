#include "warehouse/duckdb_dialect.h"

#include "core/time.h"

namespace sluice {

std::string DuckDbDialect::Timestamp(int64_t micros) const { return "TIMESTAMP '" + FormatSqlTimestamp(micros) + "'"; }

std::string DuckDbDialect::TimeBucket(std::string_view grain, const std::string& expr) const {
  return "date_trunc('" + std::string(grain) + "', " + expr + ")::TIMESTAMP";
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
