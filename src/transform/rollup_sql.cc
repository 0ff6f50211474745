#include "transform/rollup_sql.h"

#include "core/time.h"

namespace sluice {

std::string SqlTimestamp(int64_t micros) { return "TIMESTAMP '" + FormatSqlTimestamp(micros) + "'"; }

std::string SqlTimestampList(const std::set<int64_t>& micros) {
  std::string out;
  for (int64_t m : micros) out += (out.empty() ? "" : ", ") + SqlTimestamp(m);
  return out;
}

std::set<int64_t> BucketsOf(const std::set<int64_t>& hours, const std::string& grain) {
  if (grain == "hour") return hours;
  std::set<int64_t> days;
  for (int64_t h : hours) days.insert(static_cast<int64_t>(DayOf(h)) * kMicrosPerDay);
  return days;
}

namespace {

std::string BucketExpr(const RollupConfig& r) {
  return "date_trunc('" + r.grain + "', " + QuoteIdent(r.stream->event_time_field().name) + ")::TIMESTAMP";
}

std::string MeasureExpr(const Measure& m) {
  std::string c = QuoteIdent(m.column);
  switch (m.fn) {
    case MeasureFn::kCount: return "count(*)";
    case MeasureFn::kSum: return "sum(" + c + ")";
    case MeasureFn::kMin: return "min(" + c + ")";
    case MeasureFn::kMax: return "max(" + c + ")";
    case MeasureFn::kAvg: return "avg(" + c + ")";
    case MeasureFn::kApproxDistinct: return "approx_count_distinct(" + c + ")";
  }
  return "NULL";
}

// A predicate on raw selecting the rows of `buckets`: the range bounds let DuckDB's zone maps skip row
// groups (raw is stored in event order), the IN keeps non-contiguous sets exact.
std::string RawFilter(const RollupConfig& r, const std::set<int64_t>& buckets) {
  int64_t width = r.grain == "day" ? kMicrosPerDay : kMicrosPerHour;
  std::string ts = QuoteIdent(r.stream->event_time_field().name);
  return ts + " >= " + SqlTimestamp(*buckets.begin()) + " AND " + ts + " < " + SqlTimestamp(*buckets.rbegin() + width) +
         " AND " + BucketExpr(r) + " IN (" + SqlTimestampList(buckets) + ")";
}

}  // namespace

std::string RollupSelectSql(const RollupConfig& r, const std::string& raw_filter) {
  std::string sql = "SELECT " + BucketExpr(r) + " AS " + QuoteIdent(r.grain);
  for (const auto& d : r.dimensions) sql += ", " + QuoteIdent(d);
  for (const auto& m : r.measures) sql += ", " + MeasureExpr(m) + " AS " + QuoteIdent(m.name);
  for (const auto& v : r.pivot.values)
    sql += ", count(*) FILTER (WHERE " + QuoteIdent(r.pivot.column) + " = " + QuoteLiteral(v) + ") AS " + QuoteIdent(v);
  sql += " FROM " + QuoteIdent(r.stream->raw_table());
  if (!raw_filter.empty()) sql += " WHERE " + raw_filter;
  return sql + " GROUP BY ALL";
}

std::string RollupFullBuildSql(const RollupConfig& r) {
  return "CREATE OR REPLACE TABLE " + QuoteIdent(r.name) + " AS " + RollupSelectSql(r);
}

std::string RollupRecomputeSql(const RollupConfig& r, const std::set<int64_t>& hours) {
  if (hours.empty()) return "";
  std::set<int64_t> buckets = BucketsOf(hours, r.grain);
  return "DELETE FROM " + QuoteIdent(r.name) + " WHERE " + QuoteIdent(r.grain) + " IN (" +
         SqlTimestampList(buckets) + ");\nINSERT INTO " + QuoteIdent(r.name) + " " +
         RollupSelectSql(r, RawFilter(r, buckets));
}

std::string ExplainRollup(const RollupConfig& r, const std::set<int64_t>& example_hours) {
  std::string out = "-- rollup " + r.name + " of stream " + r.stream->name + " by " + r.grain + "\n";
  out += "-- build (first run, --full-refresh, or after its definition changed):\n";
  out += RollupFullBuildSql(r) + ";\n";
  if (!example_hours.empty()) {
    out += "-- incremental recompute of the touched " + r.grain + "s, one transaction with the cursor update";
    out += " (shown for " + std::to_string(example_hours.size()) + " example hour(s)):\n";
    out += "BEGIN TRANSACTION;\n" + RollupRecomputeSql(r, example_hours) + ";\nCOMMIT;\n";
  }
  return out;
}

}  // namespace sluice
