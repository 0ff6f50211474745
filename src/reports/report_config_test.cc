// The reports: section: every field read, and every mistake reported with file:line:column and field path.
#include "reports/report_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice {
namespace {

using ::testing::HasSubstr;

Result<std::vector<ReportConfig>> Read(const std::string& yaml) {
  YAML::Node root = YAML::Load(yaml);
  return ReadReports(root["reports"], "sluice.yaml");
}

TEST(ReportConfigTest, ReadsEveryField) {
  auto r = Read(R"(reports:
  weekly_ads:
    schedule: "0 6 * * MON"
    time_zone: Europe/Berlin
    sql: SELECT 1 AS one
    format: xlsx
    command: mail-it "$1"
    webhook: https://hooks.example.com/x
    timeout: 2m
    max_rows: 5000
  daily: { schedule: "@daily", chart: tracking/2 }
  legacy: { schedule: "@hourly", timezone: America/New_York, sql: SELECT 2 }
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  const ReportConfig& w = (*r)[0];
  EXPECT_EQ(w.name, "weekly_ads");
  EXPECT_EQ(w.schedule->expression(), "0 6 * * MON");
  EXPECT_EQ(w.schedule->time_zone(), "Europe/Berlin");
  EXPECT_EQ(w.sql, "SELECT 1 AS one");
  EXPECT_EQ(w.format, ReportFormat::kXlsx);
  EXPECT_EQ(w.command, "mail-it \"$1\"");
  EXPECT_EQ(w.webhook, "https://hooks.example.com/x");
  EXPECT_EQ(w.timeout, std::chrono::minutes(2));
  EXPECT_EQ(w.max_rows, 5000);
  const ReportConfig& d = (*r)[1];
  EXPECT_EQ(d.format, ReportFormat::kCsv) << "csv by default";
  EXPECT_EQ(d.chart_dashboard, "tracking");
  EXPECT_EQ(d.chart_index, 2);
  EXPECT_EQ(d.time_zone, "UTC");
  EXPECT_EQ(d.timeout, std::chrono::minutes(10));
  EXPECT_EQ((*r)[2].schedule->time_zone(), "America/New_York");
}

TEST(ReportConfigTest, EveryMistakeNamesFileLineAndField) {
  auto r = Read(R"(reports:
  bad_cron: { schedule: "61 * * * *", sql: SELECT 1 }
  bad_zone: { schedule: "@daily", time_zone: Mars/Olympus, sql: SELECT 1 }
  both: { schedule: "@daily", sql: SELECT 1, chart: a/0 }
  neither: { schedule: "@daily" }
  no_schedule: { sql: SELECT 1 }
  bad_format: { schedule: "@daily", sql: SELECT 1, format: pdf }
  bad_chart: { schedule: "@daily", chart: tracking }
  bad_hook: { schedule: "@daily", sql: SELECT 1, webhook: ftp://x }
  typo: { schedule: "@daily", sql: SELECT 1, fromat: csv }
  "bad name": { schedule: "@daily", sql: SELECT 1 }
  too_long: { schedule: "@daily", sql: SELECT 1, format: xlsx, max_rows: 2000000 }
)");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_THAT(m, HasSubstr("sluice.yaml:2:"));
  EXPECT_THAT(m, HasSubstr("reports.bad_cron.schedule: cron \"61 * * * *\": minute: 61 is out of range 0-59"));
  EXPECT_THAT(m, HasSubstr("sluice.yaml:3:"));
  EXPECT_THAT(m, HasSubstr("reports.bad_zone.time_zone:"));
  EXPECT_THAT(m, HasSubstr("reports.both: give exactly one of sql or chart"));
  EXPECT_THAT(m, HasSubstr("reports.neither: give exactly one of sql or chart"));
  EXPECT_THAT(m, HasSubstr("reports.no_schedule.schedule:"));
  EXPECT_THAT(m, HasSubstr("sluice.yaml:7:"));
  EXPECT_THAT(m, HasSubstr("reports.bad_format.format: expected csv or xlsx, got 'pdf'"));
  EXPECT_THAT(m, HasSubstr("reports.bad_chart.chart: expected DASHBOARD/INDEX"));
  EXPECT_THAT(m, HasSubstr("reports.bad_hook.webhook: expected an http:// or https:// URL"));
  EXPECT_THAT(m, HasSubstr("fromat"));
  EXPECT_THAT(m, HasSubstr("reports.bad name: report names may use only letters, digits"));
  EXPECT_THAT(m, HasSubstr("reports.too_long.max_rows: an xlsx sheet holds at most 1048575 rows"));
}

TEST(ReportConfigTest, NoReportsIsNotAnError) {
  auto r = Read("streams: {}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_FALSE(Read("reports: [a, b]\n").ok());
}

TEST(ReportConfigTest, AChartReferenceResolvesToThatChartsSql) {
  auto r = Read(R"(reports:
  a: { schedule: "@daily", chart: ops/1 }
  b: { schedule: "@daily", chart: ops/2 }
  c: { schedule: "@daily", chart: nope/0 }
  d: { schedule: "@daily", sql: SELECT 7 }
)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Dashboard ops;
  ops.name = "ops";
  ops.charts.resize(2);
  ops.charts[0].sql = "SELECT 0";
  ops.charts[1].sql = "SELECT day, n FROM daily";
  const std::vector<Dashboard> dashboards = {ops};
  auto a = ResolveReportSql((*r)[0], dashboards);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, ops.charts[1].QuerySql());
  EXPECT_THAT(*a, HasSubstr("SELECT day, n FROM daily"));
  auto b = ResolveReportSql((*r)[1], dashboards);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("dashboard ops has 2 chart(s), no index 2"));
  auto c = ResolveReportSql((*r)[2], dashboards);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("no dashboard named 'nope'"));
  EXPECT_EQ(ResolveReportSql((*r)[3], dashboards).value(), "SELECT 7");
}

}  // namespace
}  // namespace sluice
