#include "transform/rollup_sql.h"

#include "core/time.h"

namespace sluice {

std::set<int64_t> BucketsOf(const std::set<int64_t>& hours, const std::string& grain) {
  if (grain == "hour") return hours;
  std::set<int64_t> days;
  for (int64_t h : hours) days.insert(static_cast<int64_t>(DayOf(h)) * kMicrosPerDay);
  return days;
}

namespace {

std::string BucketExpr(const SqlDialect& d, const RollupConfig& r) {
  return d.TimeBucket(r.grain, d.Ident(r.stream->event_time_field().name));
}

std::string MeasureExpr(const SqlDialect& d, const Measure& m) {
  std::string c = d.Ident(m.column);
  switch (m.fn) {
    case MeasureFn::kCount:
      return "count(*)";
    case MeasureFn::kSum:
      return "sum(" + c + ")";
    case MeasureFn::kMin:
      return "min(" + c + ")";
    case MeasureFn::kMax:
      return "max(" + c + ")";
    case MeasureFn::kAvg:
      return "avg(" + c + ")";
    case MeasureFn::kApproxDistinct:
      return d.ApproxDistinct(c);
  }
  return "NULL";
}

}  // namespace

std::string RollupRawFilter(const SqlDialect& d, const RollupConfig& r, const std::set<int64_t>& buckets) {
  int64_t width = r.grain == "day" ? kMicrosPerDay : kMicrosPerHour;
  std::string ts = d.Ident(r.stream->event_time_field().name);
  return ts + " >= " + d.Timestamp(*buckets.begin()) + " AND " + ts + " < " + d.Timestamp(*buckets.rbegin() + width) +
         " AND " + BucketExpr(d, r) + " IN (" + d.TimestampList(buckets) + ")";
}

std::string RollupSelectSql(const SqlDialect& d, const RollupConfig& r, const std::string& raw_filter) {
  std::vector<std::string> keys = {BucketExpr(d, r)};
  std::string sql = "SELECT " + keys[0] + " AS " + d.Ident(r.grain);
  for (const auto& dim : r.dimensions) {
    keys.push_back(d.Ident(dim));
    sql += ", " + d.Ident(dim);
  }
  for (const auto& m : r.measures) sql += ", " + MeasureExpr(d, m) + " AS " + d.Ident(m.name);
  for (const auto& v : r.pivot.values)
    sql += ", " + d.CountIf(d.Ident(r.pivot.column) + " = " + d.Literal(v)) + " AS " + d.Ident(v);
  sql += " FROM " + d.Ident(r.stream->raw_table());
  if (!raw_filter.empty()) sql += " WHERE " + raw_filter;
  return sql + " " + d.GroupBy(keys);
}

TargetWrite RollupRebuild(const SqlDialect& d, const RollupConfig& r) {
  TargetWrite w;
  w.kind = TargetWrite::Kind::kRebuild;
  w.table = r.name;
  w.bucket_column = r.grain;
  w.select_sql = RollupSelectSql(d, r);
  return w;
}

TargetWrite RollupRecompute(const SqlDialect& d, const RollupConfig& r, const std::set<int64_t>& hours) {
  TargetWrite w;
  w.table = r.name;
  w.bucket_column = r.grain;
  if (hours.empty()) return w;
  w.kind = TargetWrite::Kind::kReplaceBuckets;
  w.buckets = BucketsOf(hours, r.grain);
  w.select_for = [&d, &r](const std::set<int64_t>& buckets) {
    return RollupSelectSql(d, r, RollupRawFilter(d, r, buckets));
  };
  return w;
}

std::string ExplainRollup(const SqlDialect& d, const RollupConfig& r, const std::set<int64_t>& example_hours) {
  auto statements = [&d](const TargetWrite& w) {
    std::string out;
    for (const auto& s : d.WriteTargetSql(w)) out += s + ";\n";
    return out;
  };
  std::string out = "-- rollup " + r.name + " of stream " + r.stream->name + " by " + r.grain + "\n";
  out += "-- build (first run, --full-refresh, or after its definition changed):\n";
  out += statements(RollupRebuild(d, r));
  if (!example_hours.empty()) {
    out += "-- incremental recompute of the touched " + r.grain + "s, atomically with the cursor update";
    out += " (shown for " + std::to_string(example_hours.size()) + " example hour(s)):\n";
    out += statements(RollupRecompute(d, r, example_hours));
  }
  return out;
}

}  // namespace sluice
