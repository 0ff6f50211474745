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
//       range: 30d                          # optional: only the newest 30 days of x present in the data
//     - title: Events per hour by type
//       kind: stacked_bar
//       rollup: tracking_hourly             # x defaults to its time bucket (hour); y sums its columns
//       y: [start, complete, click]
//
// Values; immutable once loaded; thread-safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "warehouse/sql_dialect.h"
#include "core/config.h"
#include "core/status.h"

namespace sluice {

enum class ChartKind { kLine, kArea, kBar, kStackedBar, kStackedArea, kTable, kNumber };

// "line", "stacked_bar", ... as written in the YAML; false for an unknown name.
bool ParseChartKind(const std::string& name, ChartKind& out);
const char* ChartKindName(ChartKind kind);

struct ChartConfig {
  std::string title;
  ChartKind kind = ChartKind::kLine;
  std::string sql;             // as written, or generated from the rollup reference
  std::string rollup;          // the rollup it reads, when declared with `rollup:`
  std::string x;               // empty for table and number charts
  std::vector<std::string> y;  // empty: every column (table) or the first one (number)
  std::string series;          // empty: one dataset per y column
  std::string range;           // as written ("30d"); empty: all rows
  int64_t range_us = 0;        // 0: all rows
  int64_t limit = 0;           // rollup charts by a dimension: the top N by the first y; 0: no limit
  const SqlDialect* dialect = nullptr;  // the warehouse's, which the SQL is generated in

  // The SQL the server runs: `sql` restricted to `range` (the newest range_us of x present in the data).
  std::string QuerySql() const;
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
// Every *.yaml / *.yml in config.dashboards_dir, sorted by name; none when the config declares no folder.
// NotFound when the folder is missing; Invalid with every error of every file.
Result<std::vector<Dashboard>> LoadDashboards(const Config& config);

}  // namespace sluice
