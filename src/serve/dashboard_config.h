// Dashboards (`dashboards:` in the config names a folder of *.yaml files, one dashboard each): a title and
// charts, each chart over read-only SQL or over a declared rollup. Read at start by `sluice run` and by
// `sluice validate`, so a typo is an error with file:line:column and field, like the rest of the config:
//
//   title: Community                        # dashboards/community.yaml is served at /dashboards/community
//   refresh: 30s                            # how often the page reloads chart data (default 30s; 0 = never)
//   charts:
//     - title: New stars per day
//       kind: line                          # line | area | bar | stacked_bar | stacked_area | table | number
//       sql: SELECT day, repo, new_stars FROM gh_stars_daily
//       x: day                              # the category / time axis column
//       y: new_stars                        # one column or a list; each is a dataset
//       series: repo                        # optional: one dataset per value of this column (one y then)
//       top: 5                              # optional, with series (or its synonym split): the 5 values of
//                                           # the largest sum of y in the rows shown, the rest summed as "other"
//       time: day                           # optional: the column the page's time range filters
//       range: 30d                          # optional: only the newest 30 days of `time` (or x) in the data
//     - title: Events per hour by type
//       kind: stacked_bar
//       rollup: tracking_hourly             # x defaults to its time bucket (hour); y sums its columns
//       y: [start, complete, click]
//
// Time ranges. The page's range picker (last 24 h, 7 d, 30 d, 90 d, all, or a custom from/to) filters every
// chart that has a time column: `time:`, else x when the chart has a `range:`, and always the bucket of a
// rollup chart (also when x is a dimension: "top ads" of the chosen range). The range is [from, to), bound
// as parameters of the chart's query (ChartConfig::Query, reader.h), never spliced into its text. A chart
// without a time column is "not filtered by time". `range:` is the chart's default: it applies while the
// picker has nothing chosen (the page's "chart defaults", a URL without range, from or to); any choice,
// "all" included, replaces it.
//
// Values; immutable once loaded; thread-safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "warehouse/reader.h"
#include "warehouse/sql_dialect.h"

namespace sluice {

enum class ChartKind { kLine, kArea, kBar, kStackedBar, kStackedArea, kTable, kNumber };

// "line", "stacked_bar", ... as written in the YAML; false for an unknown name.
bool ParseChartKind(const std::string& name, ChartKind& out);
const char* ChartKindName(ChartKind kind);

// What the page's range picker chose for a chart query.
struct TimeRange {
  bool chosen = false;             // false: nothing chosen; each chart shows its own `range:` (or every row)
  std::optional<int64_t> from_us;  // inclusive; none: no lower bound
  std::optional<int64_t> to_us;    // exclusive; none: no upper bound
};

// A chart's statement and the values of its placeholders $1..$N (reader.h).
struct ChartQuery {
  std::string sql;
  std::vector<QueryParam> params;
};

struct ChartConfig {
  std::string title;
  ChartKind kind = ChartKind::kLine;
  std::string sql;             // as written, or generated from the rollup reference
  std::string rollup;          // the rollup it reads, when declared with `rollup:`
  std::string x;               // empty for table and number charts
  std::vector<std::string> y;  // empty: every column (table) or the first one (number)
  std::string series;          // empty: one dataset per y column
  int64_t top = 0;             // with series: the top N series by their sum of y, the rest summed as "other"
  std::string time;            // the column a time range filters (a rollup's bucket); empty: not filtered
  std::string range;           // as written ("30d"); empty: all rows
  int64_t range_us = 0;        // 0: all rows
  int64_t limit = 0;           // rollup charts by a dimension: the top N by the first y; 0: no limit
  const SqlDialect* dialect = nullptr;  // the warehouse's, which the SQL is generated in
  std::string rollup_select;            // rollup charts: "SELECT .. FROM rollup", before the WHERE a range adds
  std::string rollup_tail;              // rollup charts: "GROUP BY .. ORDER BY .. [LIMIT n]", after it

  // The SQL the server runs when no range is chosen: `sql` restricted to `range` (the newest range_us of
  // the time column present in the data). Has no placeholders.
  std::string QuerySql() const;
  // The query for `range`: QuerySql() when nothing is chosen or the chart has no time column; otherwise the
  // chart's rows whose time column is in [from, to), the bounds as timestamp parameters.
  ChartQuery Query(const TimeRange& range) const;

 private:
  // `base` (the chart's rows) with its series cut to the top N and "other", when `top` is set.
  std::string SplitTop(const std::string& base) const;
};

struct Dashboard {
  std::string name;  // the file name without .yaml; the URL path segment
  std::string file;  // for messages
  std::string title;
  std::string description;
  int64_t refresh_us = 30'000'000;  // 0: no auto-refresh
  std::vector<ChartConfig> charts;
};

// Parses one dashboard from YAML `text`. `file` names it in errors; rollup references are checked against
// `config`'s rollups. Invalid lists every problem, one per line, as "file:line:column: charts[1].y: ...".
Result<Dashboard> ParseDashboard(const std::string& name, const std::string& file, const std::string& text,
                                 const Config& config);
// Reads and parses one dashboard file (its name is the file name without extension).
Result<Dashboard> LoadDashboardFile(const std::string& path, const Config& config);
// The *.yaml / *.yml files of config.dashboards_dir, sorted; NotFound when the folder is missing.
Result<std::vector<std::string>> DashboardFiles(const Config& config);
// Every *.yaml / *.yml in config.dashboards_dir, sorted by name; none when the config declares no folder.
// NotFound when the folder is missing; Invalid with every error of every file.
Result<std::vector<Dashboard>> LoadDashboards(const Config& config);

}  // namespace sluice
