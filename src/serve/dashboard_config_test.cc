#include "serve/dashboard_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "serve/read_only_sql.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A config with a tracking stream and an hourly rollup, for rollup references.
Config TrackingConfig(const std::string& dashboards_dir = "") {
  std::string text = R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string }
    sources: [ { kind: http } ]
rollups:
  tracking_hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id, website_id]
    pivot: { column: event, values: [start, complete, click] }
    measures: { events: count, sessions: approx_distinct(session) }
)";
  if (!dashboards_dir.empty()) text += "dashboards: " + dashboards_dir + "\n";
  auto c = ParseConfig(text, "sluice.yaml", "/");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return *c;
}

Result<Dashboard> Parse(const std::string& text) {
  static const Config config = TrackingConfig();
  return ParseDashboard("ops", "dashboards/ops.yaml", text, config);
}

TEST(DashboardConfigTest, ReadsChartsOfEveryKind) {
  auto d = Parse(R"(title: Operations
description: What the pipeline did
refresh: 5s
charts:
  - title: Rows per day
    kind: line
    sql: SELECT day, stream, rows FROM daily;
    x: day
    series: stream
    y: rows
    range: 7d
  - { title: Both, kind: stacked_area, sql: "SELECT d, a, b FROM t", x: d, y: [a, b] }
  - { title: Loads, kind: table, sql: "SELECT * FROM _sluice_batches" }
  - { title: Total, kind: number, sql: "SELECT count(*) AS n FROM raw_tracking", y: n }
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->name, "ops");
  EXPECT_EQ(d->title, "Operations");
  EXPECT_EQ(d->description, "What the pipeline did");
  EXPECT_EQ(d->refresh_us, 5'000'000);
  ASSERT_EQ(d->charts.size(), 4u);
  const ChartConfig& line = d->charts[0];
  EXPECT_EQ(line.kind, ChartKind::kLine);
  EXPECT_EQ(line.sql, "SELECT day, stream, rows FROM daily");  // the trailing ';' is dropped so it can be wrapped
  EXPECT_EQ(line.x, "day");
  EXPECT_EQ(line.series, "stream");
  EXPECT_EQ(line.y, std::vector<std::string>{"rows"});
  EXPECT_EQ(line.range_us, 7 * 86'400'000'000LL);
  // The range keeps the newest 7 days of x present in the data, not of the wall clock.
  EXPECT_EQ(line.QuerySql(),
            "SELECT * FROM (SELECT day, stream, rows FROM daily) _chart WHERE \"day\" >= (SELECT max(\"day\") FROM "
            "(SELECT day, stream, rows FROM daily) _range) - to_microseconds(604800000000) ORDER BY \"day\"");
  EXPECT_EQ(d->charts[1].kind, ChartKind::kStackedArea);
  EXPECT_EQ(d->charts[1].y, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d->charts[1].QuerySql(), "SELECT d, a, b FROM t");
  EXPECT_EQ(d->charts[2].kind, ChartKind::kTable);
  EXPECT_EQ(d->charts[3].kind, ChartKind::kNumber);
  EXPECT_STREQ(ChartKindName(ChartKind::kStackedBar), "stacked_bar");
}

TEST(DashboardConfigTest, RollupChartsSumTheRollupsColumns) {
  auto d = Parse(R"(title: Tracking
charts:
  - { title: Events per hour, kind: stacked_bar, rollup: tracking_hourly, y: [start, complete], range: 2d }
  - { title: Top ads, kind: bar, rollup: tracking_hourly, x: ad_id, y: events, limit: 10 }
  - { title: Sites, kind: line, rollup: tracking_hourly, series: website_id, y: click }
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->charts[0].x, "hour");  // the rollup's time bucket by default
  EXPECT_EQ(d->charts[0].QuerySql(),
            "SELECT \"hour\", sum(\"start\") AS \"start\", sum(\"complete\") AS \"complete\" FROM \"tracking_hourly\" "
            "WHERE \"hour\" >= (SELECT max(\"hour\") FROM \"tracking_hourly\") - to_microseconds(172800000000) "
            "GROUP BY ALL ORDER BY \"hour\"");
  EXPECT_EQ(d->charts[1].QuerySql(),
            "SELECT \"ad_id\", sum(\"events\") AS \"events\" FROM \"tracking_hourly\" GROUP BY ALL ORDER BY "
            "\"events\" DESC LIMIT 10");
  EXPECT_EQ(d->charts[2].QuerySql(),
            "SELECT \"hour\", \"website_id\", sum(\"click\") AS \"click\" FROM \"tracking_hourly\" GROUP BY ALL "
            "ORDER BY \"hour\", \"website_id\"");
}

// A chosen time range becomes placeholders bound to timestamps, never text; a chart without a time column
// (and every chart while nothing is chosen) runs its default query.
TEST(DashboardConfigTest, ATimeRangeFiltersTheTimeColumnThroughParameters) {
  auto d = Parse(R"(title: Ranges
charts:
  - { title: Per hour, kind: stacked_bar, rollup: tracking_hourly, y: [start], range: 2d }
  - { title: Top ads, kind: bar, rollup: tracking_hourly, x: ad_id, y: events, limit: 10 }
  - { title: Daily, kind: line, sql: "SELECT day, n FROM t ORDER BY day", x: day, y: n, time: day }
  - { title: By country, kind: bar, sql: "SELECT country, n, ts FROM t", x: country, y: n, time: ts }
  - { title: Ranged, kind: line, sql: "SELECT day, n FROM t", x: day, y: n, range: 7d }
  - { title: Total, kind: number, sql: "SELECT count(*) AS n FROM t" }
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  const TimeRange week{true, 1'000'000, 8'000'000};
  const TimeRange since{true, 1'000'000, std::nullopt};
  const TimeRange all{true, std::nullopt, std::nullopt};
  const std::vector<QueryParam> both = {QueryParam::Timestamp(1'000'000), QueryParam::Timestamp(8'000'000)};
  auto expect = [](const ChartQuery& q, const std::string& sql, const std::vector<QueryParam>& params) {
    EXPECT_EQ(q.sql, sql);
    ASSERT_EQ(q.params.size(), params.size()) << q.sql;
    for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(q.params[i].micros, params[i].micros) << q.sql;
  };
  EXPECT_EQ(d->charts[0].time, "hour");
  expect(d->charts[0].Query(week),
         "SELECT \"hour\", sum(\"start\") AS \"start\" FROM \"tracking_hourly\" WHERE \"hour\" >= $1 AND \"hour\" < $2 "
         "GROUP BY ALL ORDER BY \"hour\"",
         both);
  // Nothing chosen: the chart's own range: still applies; "all" replaces it.
  expect(d->charts[0].Query({}), d->charts[0].QuerySql(), {});
  EXPECT_THAT(d->charts[0].QuerySql(), HasSubstr("max(\"hour\")"));
  expect(d->charts[0].Query(all),
         "SELECT \"hour\", sum(\"start\") AS \"start\" FROM \"tracking_hourly\" GROUP BY ALL ORDER BY \"hour\"", {});
  // A rollup chart by a dimension is filtered on its bucket too: the top ads of the range.
  EXPECT_EQ(d->charts[1].time, "hour");
  expect(d->charts[1].Query(since),
         "SELECT \"ad_id\", sum(\"events\") AS \"events\" FROM \"tracking_hourly\" WHERE \"hour\" >= $1 GROUP BY ALL "
         "ORDER BY \"events\" DESC LIMIT 10",
         {QueryParam::Timestamp(1'000'000)});
  expect(d->charts[2].Query(week),
         "SELECT * FROM (SELECT day, n FROM t ORDER BY day) _chart WHERE \"day\" >= $1 AND \"day\" < $2 ORDER BY "
         "\"day\"",
         both);
  expect(d->charts[2].Query({}), "SELECT day, n FROM t ORDER BY day", {});
  expect(d->charts[3].Query({true, std::nullopt, 8'000'000}),
         "SELECT * FROM (SELECT country, n, ts FROM t) _chart WHERE \"ts\" < $1", {QueryParam::Timestamp(8'000'000)});
  // range: without time: filters x.
  EXPECT_EQ(d->charts[4].time, "day");
  expect(d->charts[4].Query(since), "SELECT * FROM (SELECT day, n FROM t) _chart WHERE \"day\" >= $1 ORDER BY \"day\"",
         {QueryParam::Timestamp(1'000'000)});
  EXPECT_EQ(d->charts[5].time, "");
  expect(d->charts[5].Query(week), "SELECT count(*) AS n FROM t", {});

  auto bad = Parse("title: x\ncharts:\n  - { title: t, kind: line, rollup: tracking_hourly, y: [start], time: day }\n");
  EXPECT_THAT(bad.status().message(),
              HasSubstr("charts[0].time: a rollup chart's time column is its bucket (hour), not 'day'"));
}

// split + top: the top N values of the split column by their sum of y in the rows shown, the rest "other".
TEST(DashboardConfigTest, SplitKeepsTheTopValuesAndSumsTheRestAsOther) {
  auto d = Parse(R"(title: Split
charts:
  - { title: Streams, kind: line, sql: "SELECT day, stream, n FROM t", x: day, split: stream, y: n, top: 3, time: day }
  - { title: Bad, kind: line, sql: "SELECT 1", x: a, y: b, top: 2 }
  - { title: Both, kind: line, sql: "SELECT 1", x: a, y: b, series: s, split: s }
)");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("charts[1].top: top keeps the largest values of a split"));
  EXPECT_THAT(d.status().message(), HasSubstr("charts[2].split: split is another name for series"));
  d = Parse(R"(title: Split
charts:
  - { title: Streams, kind: line, sql: "SELECT day, stream, n FROM t", x: day, split: stream, y: n, top: 3, time: day }
)");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->charts[0].series, "stream");
  const std::string base = "SELECT * FROM (SELECT day, stream, n FROM t) _chart WHERE \"day\" >= $1 ORDER BY \"day\"";
  ChartQuery q = d->charts[0].Query({true, 0, std::nullopt});
  EXPECT_EQ(q.sql,
            "SELECT \"_x\" AS \"day\", \"_l\" AS \"stream\", sum(\"_y\") AS \"n\" FROM (SELECT \"day\" AS \"_x\", "
            "CASE WHEN \"stream\" IN (SELECT \"stream\" FROM (" +
                base +
                ") _top GROUP BY \"stream\" ORDER BY sum(\"n\") DESC, \"stream\" LIMIT 3) THEN CAST(\"stream\" AS "
                "VARCHAR) ELSE 'other' END AS \"_l\", \"n\" AS \"_y\" FROM (" +
                base + ") _b) _split GROUP BY ALL ORDER BY \"_x\", \"_l\"");
  EXPECT_EQ(q.params.size(), 1u);  // $1 twice, one value
}

TEST(DashboardConfigTest, EveryErrorHasFileLineColumnAndField) {
  auto d = Parse(R"(title: Broken
colour: red
charts:
  - title: Pie
    kind: pie
    sql: SELECT 1
  - title: No x
    kind: line
    sql: SELECT day, n FROM t
    y: n
  - title: Writer
    kind: table
    sql: DELETE FROM raw_tracking
  - title: Sneaky
    kind: table
    sql: "SELECT 1; DROP TABLE raw_tracking"
  - { title: Both, kind: bar, sql: SELECT 1, rollup: tracking_hourly, x: a, y: b }
  - { title: Series, kind: line, sql: SELECT 1, x: a, y: [b, c], series: s }
  - { title: Typo, kind: line, rollup: tracking_hourly, y: [clicks] }
  - { title: Distinct, kind: line, rollup: tracking_hourly, y: sessions }
  - { title: Unknown, kind: line, rollup: hourly, y: events }
  - { title: Dimension, kind: bar, rollup: tracking_hourly, x: country, y: events }
  - { kind: number, sql: SELECT 1, range: 1x }
)");
  ASSERT_FALSE(d.ok());
  const std::string& m = d.status().message();
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:2:1: colour: unknown field"));
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:5:11: charts[0].kind: unknown chart kind 'pie' (expected one of: "
                           "line, area, bar, stacked_bar, stacked_area, table, number)"));
  EXPECT_THAT(m, Not(HasSubstr("a pie chart")));  // an unknown kind is one error, not three
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:7:5: charts[1].x: a line chart needs its x column"));
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:13:10: charts[2].sql: " + std::string(kReadOnlySqlError)));
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:16:10: charts[3].sql: " + std::string(kReadOnlySqlError)));
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:17:54: charts[4].rollup: a chart reads either sql or a rollup"));
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:18:74: charts[5].series: a chart with series shows one y column"));
  EXPECT_THAT(m, HasSubstr("dashboards/ops.yaml:19:60: charts[6].y: 'clicks' is not a measure of rollup "
                           "tracking_hourly (measures: events, sessions, start, complete, click)"));
  EXPECT_THAT(m, HasSubstr("charts[7].y: 'sessions' of rollup tracking_hourly cannot be summed across its "
                           "dimensions; use sql:"));
  EXPECT_THAT(m, HasSubstr("charts[8].rollup: no rollup named 'hourly' (declared: tracking_hourly)"));
  EXPECT_THAT(m, HasSubstr("charts[9].x: 'country' is not the time bucket (hour) or a dimension"));
  EXPECT_THAT(m, HasSubstr("charts[10].title: required field is missing"));
  EXPECT_THAT(m, HasSubstr("charts[10].range: not a duration: '1x'"));
}

TEST(DashboardConfigTest, ShapeErrors) {
  EXPECT_THAT(Parse("title: x\n").status().message(), HasSubstr("ops.yaml:1:1: charts: expected a non-empty list"));
  EXPECT_THAT(Parse("- a\n").status().message(), HasSubstr("ops.yaml:1:1: (top): expected a map"));
  EXPECT_THAT(Parse("title: [\n").status().message(), HasSubstr("dashboards/ops.yaml:"));
  EXPECT_THAT(Parse("title: x\ncharts:\n  - { title: t, kind: line }\n").status().message(),
              HasSubstr("ops.yaml:3:5: charts[0].sql: a chart needs sql: or rollup:"));
}

TEST(ReadOnlySqlTest, OneReadingStatement) {
  EXPECT_TRUE(IsReadOnlySql("SELECT 1"));
  EXPECT_TRUE(IsReadOnlySql("  with t AS (SELECT 1) SELECT * FROM t;"));
  EXPECT_TRUE(IsReadOnlySql("-- a comment first\n/* and another */ (SELECT 1);  \n"));
  EXPECT_TRUE(IsReadOnlySql("SELECT ';DROP TABLE t' AS s, \"a;b\" FROM t -- ; DROP"));
  EXPECT_FALSE(IsReadOnlySql("DROP TABLE t"));
  EXPECT_FALSE(IsReadOnlySql("SELECT 1; DROP TABLE t"));
  EXPECT_FALSE(IsReadOnlySql("SELECT 'it''s'; DELETE FROM t"));
  EXPECT_FALSE(IsReadOnlySql("/* SELECT */ UPDATE t SET a = 1"));
  EXPECT_FALSE(IsReadOnlySql(""));
}

class DashboardFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_dashboards_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::filesystem::path dir_;
};

TEST_F(DashboardFolderTest, LoadsEveryYamlSortedAndReportsEveryFilesErrors) {
  Write("b.yaml", "title: B\ncharts: [ { title: n, kind: number, sql: SELECT 1 } ]\n");
  Write("a.yml", "title: A\ncharts: [ { title: n, kind: number, sql: SELECT 2 } ]\n");
  Write("notes.txt", "not a dashboard");
  auto d = LoadDashboards(TrackingConfig(dir_.string()));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].name, "a");
  EXPECT_EQ((*d)[1].name, "b");

  Write("c.yaml", "title: C\ncharts: [ { title: n, kind: gauge, sql: SELECT 1 } ]\n");
  Write("d e.yaml", "title: D\ncharts: [ { title: n, kind: number, sql: DROP TABLE x } ]\n");
  d = LoadDashboards(TrackingConfig(dir_.string()));
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(),
              HasSubstr((dir_ / "c.yaml").string() + ":2:29: charts[0].kind: unknown chart kind"));
  EXPECT_THAT(d.status().message(), HasSubstr((dir_ / "d e.yaml").string() + ":1:1: (file name): dashboard names"));
  EXPECT_THAT(d.status().message(), HasSubstr((dir_ / "d e.yaml").string() + ":2:42: charts[0].sql"));

  auto missing = LoadDashboards(TrackingConfig((dir_ / "nope").string()));
  EXPECT_TRUE(missing.status().IsNotFound());
  auto none = LoadDashboards(TrackingConfig());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// The shipped examples (also the demo's dashboards) stay valid.
TEST(DashboardExamplesTest, ExamplesLoad) {
  Config config = TrackingConfig(std::string(SLUICE_SOURCE_DIR) + "/examples/dashboards");
  config.rollups = YAML::Load(R"(tracking_hourly:
  stream: tracking
  grain: hour
  dimensions: [ad_id, website_id]
  pivot: { column: event, values: [start, firstQuartile, midpoint, thirdQuartile, complete, click] }
  measures: { events: count, sessions: approx_distinct(session) }
tracking_country_hourly:
  stream: tracking
  grain: hour
  dimensions: [country]
  pivot: { column: event, values: [click] }
  measures: { events: count }
)");
  auto d = LoadDashboards(config);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].name, "community");
  EXPECT_EQ((*d)[1].name, "tracking");
}

}  // namespace
}  // namespace sluice
