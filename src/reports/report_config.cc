#include "report_config.h"

#include <cctype>

#include "collect/time_zone.h"

namespace sluice {
namespace {

// Names become landing keys and file names: keep them to what SafeName keeps.
bool IsFileName(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

ReportConfig ReadOne(ConfigReader& r, const std::string& name, const YAML::Node& n) {
  ReportConfig c;
  c.name = name;
  const std::string path = JoinPath("reports", name);
  if (!IsFileName(name)) r.Error(n, path, "report names may use only letters, digits, '.', '_' and '-'");
  if (!n.IsMap()) {
    r.Error(n, path, "expected a map with schedule and sql (or chart)");
    return c;
  }
  r.CheckKeys(
      n, path,
      {"schedule", "time_zone", "timezone", "sql", "chart", "format", "command", "webhook", "timeout", "max_rows"});

  if (n["time_zone"].IsDefined() && n["timezone"].IsDefined())
    r.Error(n["timezone"], JoinPath(path, "timezone"), "give time_zone or timezone, not both");
  const char* tz_key = n["timezone"].IsDefined() ? "timezone" : "time_zone";
  bool zone_ok = true;
  if (auto tz = r.String(n, tz_key, path)) {
    c.time_zone = *tz;
    if (auto zone = TimeZone::Load(c.time_zone); !zone.ok()) {
      r.Error(n[tz_key], JoinPath(path, tz_key), zone.status().message());
      zone_ok = false;
    }
  }
  if (auto expr = r.String(n, "schedule", path, true)) {
    // With a bad zone, the expression is still checked (in UTC) so both mistakes show at once.
    auto schedule = CronSchedule::Parse(*expr, zone_ok ? c.time_zone : "UTC");
    if (!schedule.ok())
      r.Error(n["schedule"], JoinPath(path, "schedule"), schedule.status().message());
    else if (zone_ok)
      c.schedule = std::move(*schedule);
  }

  const bool has_sql = n["sql"].IsDefined(), has_chart = n["chart"].IsDefined();
  if (has_sql == has_chart) r.Error(n, path, "give exactly one of sql or chart (DASHBOARD/INDEX)");
  if (auto sql = r.String(n, "sql", path)) {
    c.sql = *sql;
    if (c.sql.find_first_not_of(" \t\r\n;") == std::string::npos) r.Error(n["sql"], JoinPath(path, "sql"), "is empty");
  }
  if (auto chart = r.String(n, "chart", path)) {
    c.chart = *chart;
    const size_t slash = chart->rfind('/');
    const std::string index = slash == std::string::npos ? "" : chart->substr(slash + 1);
    const bool digits =
        !index.empty() && index.size() <= 6 && index.find_first_not_of("0123456789") == std::string::npos;
    if (slash == 0 || !digits) {
      r.Error(n["chart"], JoinPath(path, "chart"),
              "expected DASHBOARD/INDEX (the dashboard's file name without .yaml, and the chart's index from 0), "
              "got '" +
                  *chart + "'");
    } else {
      c.chart_dashboard = chart->substr(0, slash);
      c.chart_index = std::stoi(index);
    }
  }

  if (auto format = r.String(n, "format", path)) {
    if (*format == "csv") {
      c.format = ReportFormat::kCsv;
    } else if (*format == "xlsx") {
      c.format = ReportFormat::kXlsx;
    } else {
      r.Error(n["format"], JoinPath(path, "format"), "expected csv or xlsx, got '" + *format + "'");
    }
  }
  if (auto command = r.String(n, "command", path)) {
    c.command = *command;
    if (c.command.empty()) r.Error(n["command"], JoinPath(path, "command"), "is empty");
  }
  if (auto webhook = r.String(n, "webhook", path)) {
    c.webhook = *webhook;
    if (c.webhook.rfind("http://", 0) != 0 && c.webhook.rfind("https://", 0) != 0)
      r.Error(n["webhook"], JoinPath(path, "webhook"), "expected an http:// or https:// URL");
  }
  if (auto t = r.Duration(n, "timeout", path)) {
    if (*t < 1'000'000) r.Error(n["timeout"], JoinPath(path, "timeout"), "must be at least 1s");
    c.timeout = std::chrono::seconds(std::max<int64_t>(1, *t / 1'000'000));
  }
  if (auto m = r.Int(n, "max_rows", path)) {
    c.max_rows = *m;
    if (*m <= 0) r.Error(n["max_rows"], JoinPath(path, "max_rows"), "must be positive");
  }
  if (c.format == ReportFormat::kXlsx && c.max_rows > kXlsxMaxRows) {
    r.Error(n["max_rows"].IsDefined() ? n["max_rows"] : n, JoinPath(path, "max_rows"),
            "an xlsx sheet holds at most " + std::to_string(kXlsxMaxRows) + " rows below its header");
  }
  return c;
}

}  // namespace

const char* ReportFormatName(ReportFormat format) { return format == ReportFormat::kXlsx ? "xlsx" : "csv"; }

std::vector<ReportConfig> ReadReports(ConfigReader& r, const YAML::Node& reports) {
  std::vector<ReportConfig> out;
  if (!reports.IsDefined() || reports.IsNull()) return out;
  if (!reports.IsMap()) {
    r.Error(reports, "reports", "expected a map of name: {schedule: ..., sql: ..., format: csv | xlsx}");
    return out;
  }
  for (const auto& kv : reports) out.push_back(ReadOne(r, kv.first.as<std::string>(), kv.second));
  return out;
}

Result<std::vector<ReportConfig>> ReadReports(const YAML::Node& reports, const std::string& file) {
  ConfigReader r(file);
  std::vector<ReportConfig> out = ReadReports(r, reports);
  RETURN_IF_ERROR(r.ToStatus());
  return out;
}

Result<std::string> ResolveReportSql(const ReportConfig& report, const std::vector<Dashboard>& dashboards) {
  if (report.chart.empty()) return report.sql;
  for (const Dashboard& d : dashboards) {
    if (d.name != report.chart_dashboard) continue;
    if (report.chart_index < 0 || static_cast<size_t>(report.chart_index) >= d.charts.size())
      return Status::NotFound("report " + report.name + ": dashboard " + d.name + " has " +
                              std::to_string(d.charts.size()) + " chart(s), no index " +
                              std::to_string(report.chart_index) + " (indexes start at 0)");
    return d.charts[report.chart_index].QuerySql();
  }
  return Status::NotFound("report " + report.name + ": no dashboard named '" + report.chart_dashboard +
                          "' (the chart: field names a dashboards/*.yaml file without .yaml)");
}

}  // namespace sluice
