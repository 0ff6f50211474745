// ReportConfig: the `reports:` section of the pipeline config, one entry per named report (issue 11):
//
//   reports:
//     weekly_ads:
//       schedule: "0 6 * * MON"        # 5-field cron or @daily...; required
//       time_zone: Europe/Berlin       # optional, default UTC (`timezone`, the collectors' spelling, too)
//       sql: SELECT ...                # one read-only statement, run on a reader connection
//       # or: chart: tracking/0        # DASHBOARD/INDEX: the SQL of that dashboard's chart (index from 0)
//       format: xlsx                   # csv (default) | xlsx
//       command: mail-it "$1"          # optional: `sh -c COMMAND sluice-report FILE` once the file is landed
//       webhook: https://hooks/x       # optional: the file POSTed there
//       timeout: 10m                   # optional: the whole run, handing on included (default 10m)
//       max_rows: 1000000              # optional: more rows fail the run rather than cut the report short
//
// Read through a ConfigReader, so every mistake is reported with file:line:column and field path; the
// schedule is parsed here, so a bad cron expression is a config error. A chart reference is only checked for
// shape here; ResolveReportSql finds the chart once dashboards are loaded.
// Values; immutable after reading, thread-safe to share.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collect/cron.h"
#include "core/config_reader.h"
#include "core/status.h"
#include "serve/dashboard_config.h"

namespace sluice {

enum class ReportFormat { kCsv, kXlsx };

// "csv" / "xlsx": the file extension too.
const char* ReportFormatName(ReportFormat format);

// Rows an XLSX sheet holds below its header row (Excel's limit is 1,048,576 rows).
inline constexpr int64_t kXlsxMaxRows = 1'048'575;

struct ReportConfig {
  std::string name;                      // [A-Za-z0-9._-]: it names landing keys and files
  std::optional<CronSchedule> schedule;  // set whenever reading succeeded
  std::string time_zone = "UTC";         // the schedule's, and the day of the dt= folder
  std::string sql;                       // empty when `chart` is set
  std::string chart;                     // "DASHBOARD/INDEX" as written; empty when `sql` is set
  std::string chart_dashboard;           // parsed from `chart`
  int chart_index = -1;
  ReportFormat format = ReportFormat::kCsv;
  std::string command;  // empty: none
  std::string webhook;  // empty: none
  std::chrono::seconds timeout{600};
  int64_t max_rows = 1'000'000;
};

// Reads `reports` (a map name -> report; null or absent means none), recording errors in `r`.
std::vector<ReportConfig> ReadReports(ConfigReader& r, const YAML::Node& reports);
// Same, as a Result: Invalid with one "file:line:col: field: message" per line.
Result<std::vector<ReportConfig>> ReadReports(const YAML::Node& reports, const std::string& file);

// The SQL `report` runs: its `sql`, or the query of the chart it names among `dashboards` (what that chart
// shows). NotFound naming the dashboard or the index when there is no such chart.
Result<std::string> ResolveReportSql(const ReportConfig& report, const std::vector<Dashboard>& dashboards);

}  // namespace sluice
