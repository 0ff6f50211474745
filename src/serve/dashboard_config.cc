#include "serve/dashboard_config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/config_reader.h"
#include "serve/read_only_sql.h"
#include "transform/rollup_config.h"

namespace sluice {
namespace {

constexpr std::pair<ChartKind, const char*> kKinds[] = {{ChartKind::kLine, "line"},
                                                        {ChartKind::kArea, "area"},
                                                        {ChartKind::kBar, "bar"},
                                                        {ChartKind::kStackedBar, "stacked_bar"},
                                                        {ChartKind::kStackedArea, "stacked_area"},
                                                        {ChartKind::kTable, "table"},
                                                        {ChartKind::kNumber, "number"}};

std::string Quote(const std::string& identifier) {
  std::string q = "\"";
  for (char c : identifier) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

// The SQL without trailing blanks and semicolons, so it can be wrapped in a CTE.
std::string TrimSql(const std::string& sql) {
  size_t a = sql.find_first_not_of(" \t\r\n");
  size_t b = sql.find_last_not_of(" \t\r\n;");
  return a == std::string::npos ? "" : sql.substr(a, b - a + 1);
}

std::string RangeStart(const SqlDialect& d, const std::string& column, const std::string& from, int64_t range_us) {
  return d.MinusMicros("(SELECT max(" + Quote(column) + ") FROM " + from + ")", range_us);
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The re-aggregation of rollup column `column` across the dimensions a chart leaves out, or "" when it has
// none that is exact (averages and distinct counts do not add up).
std::string Reaggregate(const RollupConfig& r, const std::string& column) {
  for (const std::string& v : r.pivot.values)
    if (v == column) return "sum";
  for (const Measure& m : r.measures) {
    if (m.name != column) continue;
    switch (m.fn) {
      case MeasureFn::kCount:
      case MeasureFn::kSum:
        return "sum";
      case MeasureFn::kMin:
        return "min";
      case MeasureFn::kMax:
        return "max";
      default:
        return "";
    }
  }
  return "";
}

// Reads a chart's rollup reference and generates its SQL; errors go to `r` at the chart's fields.
void ReadRollupChart(ConfigReader& r, const YAML::Node& n, const std::string& path,
                     const std::vector<RollupConfig>& rollups, ChartConfig& c) {
  auto it = std::find_if(rollups.begin(), rollups.end(), [&](const RollupConfig& x) { return x.name == c.rollup; });
  if (it == rollups.end()) {
    std::string names;
    for (const RollupConfig& x : rollups) names += (names.empty() ? "" : ", ") + x.name;
    r.Error(n["rollup"], JoinPath(path, "rollup"),
            "no rollup named '" + c.rollup + "' (declared: " + (names.empty() ? "none" : names) + ")");
    return;
  }
  const RollupConfig& roll = *it;
  if (c.x.empty()) c.x = roll.grain;
  if (c.x != roll.grain && !Contains(roll.dimensions, c.x))
    r.Error(n["x"], JoinPath(path, "x"),
            "'" + c.x + "' is not the time bucket (" + roll.grain + ") or a dimension of rollup " + roll.name);
  if (!c.series.empty() && !Contains(roll.dimensions, c.series))
    r.Error(n["series"], JoinPath(path, "series"), "'" + c.series + "' is not a dimension of rollup " + roll.name);
  if (c.y.empty() && c.kind != ChartKind::kTable)
    r.Error(n, JoinPath(path, "y"), "a rollup chart names the rollup columns it shows");
  const SqlDialect& d = *c.dialect;
  std::vector<std::string> keys = {Quote(c.x)};
  if (!c.series.empty()) keys.push_back(Quote(c.series));
  std::string select = Quote(c.x) + (c.series.empty() ? "" : ", " + Quote(c.series));
  for (const std::string& y : c.y) {
    std::string fn = Reaggregate(roll, y);
    if (fn.empty()) {
      std::string columns;
      for (const std::string& col : roll.OutputColumns())
        if (col != roll.grain && !Contains(roll.dimensions, col)) columns += (columns.empty() ? "" : ", ") + col;
      r.Error(n["y"], JoinPath(path, "y"),
              Contains(roll.OutputColumns(), y)
                  ? "'" + y + "' of rollup " + roll.name + " cannot be summed across its dimensions; use sql:"
                  : "'" + y + "' is not a measure of rollup " + roll.name + " (measures: " + columns + ")");
      continue;
    }
    select += ", " + fn + "(" + Quote(y) + ") AS " + Quote(y);
  }
  if (!c.time.empty() && c.time != roll.grain)
    r.Error(n["time"], JoinPath(path, "time"),
            "a rollup chart's time column is its bucket (" + roll.grain + "), not '" + c.time + "'");
  c.time = roll.grain;
  c.rollup_select = "SELECT " + select + " FROM " + Quote(roll.name);
  // Over time: in time order (the group keys are unique per row, so this is every column's order); by a
  // dimension: the largest first.
  std::string by_keys;
  for (const auto& k : keys) by_keys += (by_keys.empty() ? "" : ", ") + k;
  c.rollup_tail =
      d.GroupBy(keys) + " ORDER BY " + (c.x == roll.grain ? by_keys : Quote(c.y.empty() ? c.x : c.y[0]) + " DESC");
  if (c.limit > 0) c.rollup_tail += " LIMIT " + std::to_string(c.limit);
  c.sql = c.rollup_select + " " + c.rollup_tail;
}

void ReadChart(ConfigReader& r, const YAML::Node& n, const std::string& path, const std::vector<RollupConfig>& rollups,
               ChartConfig& c) {
  if (!n.IsMap()) {
    r.Error(n, path, "expected a map with title, kind, sql or rollup, x and y");
    return;
  }
  r.CheckKeys(n, path,
              {"title", "kind", "sql", "rollup", "x", "y", "series", "split", "top", "time", "range", "limit"});
  c.title = r.String(n, "title", path, true).value_or("");
  std::string kind = r.String(n, "kind", path, true).value_or("");
  bool known_kind = ParseChartKind(kind, c.kind);
  if (!kind.empty() && !known_kind) {
    std::string names;
    for (const auto& [k, name] : kKinds) names += (names.empty() ? "" : ", ") + std::string(name);
    r.Error(n["kind"], JoinPath(path, "kind"), "unknown chart kind '" + kind + "' (expected one of: " + names + ")");
  }
  c.x = r.String(n, "x", path).value_or("");
  c.y = r.StringList(n, "y", path);
  c.series = r.String(n, "series", path).value_or("");
  if (auto split = r.String(n, "split", path)) {
    if (!c.series.empty()) r.Error(n["split"], JoinPath(path, "split"), "split is another name for series; give one");
    c.series = *split;
  }
  c.top = r.Int(n, "top", path).value_or(0);
  if (c.top < 0) r.Error(n["top"], JoinPath(path, "top"), "must be positive");
  if (c.top > 0 && c.series.empty())
    r.Error(n["top"], JoinPath(path, "top"), "top keeps the largest values of a split (or series) column; set split");
  c.time = r.String(n, "time", path).value_or("");
  c.range = r.String(n, "range", path).value_or("");
  c.range_us = r.Duration(n, "range", path).value_or(0);
  c.limit = r.Int(n, "limit", path).value_or(0);
  if (c.limit < 0) r.Error(n["limit"], JoinPath(path, "limit"), "must be positive");
  bool plotted = known_kind && c.kind != ChartKind::kTable && c.kind != ChartKind::kNumber;
  if (!c.series.empty() && c.y.size() > 1)
    r.Error(n["series"], JoinPath(path, "series"),
            "a chart with series shows one y column, not " + std::to_string(c.y.size()));
  if (c.kind == ChartKind::kNumber && c.y.size() > 1)
    r.Error(n["y"], JoinPath(path, "y"), "a number chart shows one column");
  auto sql = r.String(n, "sql", path);
  auto rollup = r.String(n, "rollup", path);
  if (sql && rollup) {
    r.Error(n["rollup"], JoinPath(path, "rollup"), "a chart reads either sql or a rollup, not both");
  } else if (rollup) {
    c.rollup = *rollup;
    ReadRollupChart(r, n, path, rollups, c);
  } else if (sql) {
    c.sql = TrimSql(*sql);
    if (!IsReadOnlySql(c.sql)) r.Error(n["sql"], JoinPath(path, "sql"), kReadOnlySqlError);
    if (plotted && c.x.empty()) r.Error(n, JoinPath(path, "x"), "a " + kind + " chart needs its x column");
    if (plotted && c.y.empty()) r.Error(n, JoinPath(path, "y"), "a " + kind + " chart needs at least one y column");
    if (c.range_us > 0 && c.x.empty() && c.time.empty())
      r.Error(n["range"], JoinPath(path, "range"), "a range applies to the time column; set time (or x)");
    if (c.time.empty() && c.range_us > 0) c.time = c.x;
  } else {
    r.Error(n, JoinPath(path, "sql"), "a chart needs sql: or rollup:");
  }
}

}  // namespace

bool ParseChartKind(const std::string& name, ChartKind& out) {
  for (const auto& [kind, kind_name] : kKinds) {
    if (name == kind_name) {
      out = kind;
      return true;
    }
  }
  return false;
}

const char* ChartKindName(ChartKind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "line";
}

std::string ChartConfig::SplitTop(const std::string& base) const {
  if (top <= 0 || series.empty() || y.empty()) return base;
  // The label is made in a subquery and grouped by name: ClickHouse 18.16 does not match a GROUP BY
  // expression holding a subquery with the SELECT's, and refuses an alias that names a column it reads.
  const std::string s = Quote(series), v = Quote(y[0]), cx = Quote(x);
  const std::string label = "CASE WHEN " + s + " IN (SELECT " + s + " FROM (" + base + ") _top GROUP BY " + s +
                            " ORDER BY sum(" + v + ") DESC, " + s + " LIMIT " + std::to_string(top) + ") THEN " +
                            dialect->ToText(s) + " ELSE 'other' END";
  return "SELECT \"_x\" AS " + cx + ", \"_l\" AS " + s + ", sum(\"_y\") AS " + v + " FROM (SELECT " + cx +
         " AS \"_x\", " + label + " AS \"_l\", " + v + " AS \"_y\" FROM (" + base + ") _b) _split " +
         dialect->GroupBy({"\"_x\"", "\"_l\""}) + " ORDER BY \"_x\", \"_l\"";
}

std::string ChartConfig::QuerySql() const {
  if (range_us <= 0) return SplitTop(sql);
  if (!rollup.empty())
    return SplitTop(rollup_select + " WHERE " + Quote(time) +
                    " >= " + RangeStart(*dialect, time, Quote(rollup), range_us) + " " + rollup_tail);
  // The chart's SQL twice rather than a CTE: ClickHouse 18.16's WITH names expressions, not subqueries.
  return SplitTop("SELECT * FROM (" + sql + ") _chart WHERE " + Quote(time) +
                  " >= " + RangeStart(*dialect, time, "(" + sql + ") _range", range_us) + " ORDER BY " +
                  Quote(x.empty() ? time : x));
}

ChartQuery ChartConfig::Query(const TimeRange& range) const {
  if (!range.chosen || time.empty()) return {QuerySql(), {}};
  ChartQuery q;
  std::string where;
  for (const auto& [bound, op] : {std::pair{range.from_us, " >= $"}, std::pair{range.to_us, " < $"}}) {
    if (!bound) continue;
    q.params.push_back(QueryParam::Timestamp(*bound));
    where += (where.empty() ? "" : " AND ") + dialect->AsTimestamp(Quote(time)) + op + std::to_string(q.params.size());
  }
  if (!rollup.empty()) {
    q.sql = rollup_select + (where.empty() ? "" : " WHERE " + where) + " " + rollup_tail;
  } else if (where.empty()) {
    q.sql = sql;
  } else {
    q.sql = "SELECT * FROM (" + sql + ") _chart WHERE " + where + (time == x ? " ORDER BY " + Quote(x) : "");
  }
  q.sql = SplitTop(q.sql);  // the top N of the rows in the range; placeholders appear twice, bound alike
  return q;
}

Result<Dashboard> ParseDashboard(const std::string& name, const std::string& file, const std::string& text,
                                 const Config& config) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(text, file));
  ConfigReader r(file);
  Dashboard d;
  d.name = name;
  d.file = file;
  for (char ch : name)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'))
      r.Error(root, "(file name)", "dashboard names may hold only letters, digits, '_' and '-' (they are URL paths)");
  if (!root.IsMap()) {
    r.Error(root, "(top)", "expected a map with title and charts");
    return r.ToStatus();
  }
  r.CheckKeys(root, "", {"title", "description", "refresh", "charts"});
  d.title = r.String(root, "title", "", true).value_or(name);
  d.description = r.String(root, "description", "").value_or("");
  d.refresh_us = r.Duration(root, "refresh", "").value_or(d.refresh_us);
  // Rollup references are checked against the rollups as `sluice run` reads them; their own errors are
  // reported by the transformer, so here a broken rollups section only means no rollup is known.
  std::vector<RollupConfig> rollups;
  if (auto parsed = ParseRollups(config); parsed.ok()) rollups = std::move(*parsed);
  YAML::Node charts = root["charts"];
  if (!charts.IsDefined() || !charts.IsSequence() || charts.size() == 0) {
    r.Error(charts.IsDefined() ? charts : root, "charts", "expected a non-empty list of charts");
    return r.ToStatus();
  }
  for (size_t i = 0; i < charts.size(); ++i) {
    ChartConfig c;
    c.dialect = &DialectFor(config.warehouse_kind);
    ReadChart(r, charts[i], "charts[" + std::to_string(i) + "]", rollups, c);
    d.charts.push_back(std::move(c));
  }
  RETURN_IF_ERROR(r.ToStatus());
  return d;
}

Result<Dashboard> LoadDashboardFile(const std::string& path, const Config& config) {
  std::ifstream in(path);
  if (!in) return Status::NotFound(path + ": cannot read the dashboard file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseDashboard(std::filesystem::path(path).stem().string(), path, ss.str(), config);
}

Result<std::vector<std::string>> DashboardFiles(const Config& config) {
  std::vector<std::string> files;
  const std::string& dir = config.dashboards_dir;
  if (dir.empty()) return files;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::NotFound(config.file + ": dashboards: folder '" + dir + "' does not exist");
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<Dashboard>> LoadDashboards(const Config& config) {
  std::vector<Dashboard> out;
  ASSIGN_OR_RETURN(std::vector<std::string> files, DashboardFiles(config));
  std::string errors;
  std::map<std::string, std::string> seen;
  for (const auto& file : files) {
    std::filesystem::path f(file);
    std::string name = f.stem().string();
    if (seen.count(name)) {
      errors +=
          (errors.empty() ? "" : "\n") + f.string() + ": dashboard '" + name + "' is also defined in " + seen[name];
      continue;
    }
    seen[name] = f.string();
    auto d = LoadDashboardFile(file, config);
    if (!d.ok())
      errors += (errors.empty() ? "" : "\n") + d.status().message();
    else
      out.push_back(std::move(*d));
  }
  if (!errors.empty()) return Status::Invalid(errors);
  return out;
}

}  // namespace sluice
