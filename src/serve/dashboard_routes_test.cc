// The dashboard JSON API of a real Server over a real DuckDB warehouse: the list, a definition, chart data
// equal to the query's rows, a failing chart's error, 404s, the token check, the page and its assets, and
// the counters on /metrics.
#include "serve/dashboard_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "serve/server.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DashboardRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_dashboard_routes_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "dashboards");
    std::ofstream(dir_ / "dashboards" / "ops.yaml") << R"(title: Operations
refresh: 15s
charts:
  - { title: Rows per day, kind: line, sql: "SELECT day, stream, n FROM daily ORDER BY day, stream", x: day, series: stream, y: n }
  - { title: Newest two days, kind: bar, sql: "SELECT day, sum(n) AS n FROM daily GROUP BY day", x: day, y: n, range: 1d }
  - { title: Broken, kind: table, sql: "SELECT nope FROM missing_table" }
  - { title: Events per hour, kind: stacked_bar, rollup: tracking_hourly, y: [start, click] }
)";
    std::ofstream(dir_ / "dashboards" / "empty.yaml")
        << "title: Empty\ncharts: [ { title: n, kind: number, sql: SELECT 42 AS answer } ]\n";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    server_.reset();
    pipeline_.reset();
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts a server on a free port for a config whose server section is `server`.
  Status Start(const std::string& server) {
    auto config = ParseConfig(R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
)" + server + R"(
dashboards: dashboards
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources: [ { kind: http } ]
rollups:
  tracking_hourly: { stream: tracking, grain: hour, dimensions: [ad_id], pivot: { column: event, values: [start, click] } }
)",
                              "sluice.yaml", dir_.string());
    if (!config.ok()) return config.status();
    config_ = std::make_unique<Config>(std::move(*config));
    ASSIGN_OR_RETURN(warehouse_, OpenWarehouse(*config_));
    RETURN_IF_ERROR(warehouse_->Prepare(*config_));
    RETURN_IF_ERROR(warehouse_->Execute(
        "CREATE TABLE daily AS SELECT * FROM (VALUES (DATE '2026-11-01', 'a', 3), (DATE '2026-11-01', 'b', 5), "
        "(DATE '2026-11-02', 'a', 4), (DATE '2026-11-03', 'b', 7)) t(day, stream, n);"
        "CREATE TABLE tracking_hourly AS SELECT * FROM (VALUES (TIMESTAMP '2026-11-01 10:00:00', 1, 2, 1), "
        "(TIMESTAMP '2026-11-01 10:00:00', 2, 3, 0), (TIMESTAMP '2026-11-01 11:00:00', 1, 1, 1)) t(hour, ad_id, start, "
        "click)"));
    pipeline_ = std::make_unique<Pipeline>(*config_, *warehouse_, metrics_);
    ASSIGN_OR_RETURN(auto readers, warehouse_->OpenReaders(2));
    server_ = std::make_unique<Server>(*config_, *pipeline_, readers);
    return server_->Start("127.0.0.1:0");
  }

  std::pair<int, std::string> Get(const std::string& path, const std::string& token = "") {
    httplib::Client client("127.0.0.1", server_->port());
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = client.Get(path, headers);
    if (!res) return {-1, ""};
    return {res->status, res->body};
  }

  std::filesystem::path dir_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Warehouse> warehouse_;
  Metrics metrics_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<Server> server_;
};

TEST_F(DashboardRoutesTest, ListsDefinesAndServesChartData) {
  ASSERT_TRUE(Start("").ok());
  EXPECT_EQ(
      Get("/api/dashboards"),
      std::make_pair(200, std::string("{\"dashboards\":[\n"
                                      "{\"name\":\"empty\",\"title\":\"Empty\",\"description\":\"\",\"charts\":1},\n"
                                      "{\"name\":\"ops\",\"title\":\"Operations\",\"description\":\"\",\"charts\":4}],"
                                      "\"reload_error\":\"\"}\n")));
  auto [code, def] = Get("/api/dashboards/ops");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(def, HasSubstr("\"refresh_seconds\":15,"));
  EXPECT_THAT(
      def,
      HasSubstr(
          "{\"index\":0,\"title\":\"Rows per day\",\"kind\":\"line\",\"x\":\"day\",\"y\":[\"n\"],"
          "\"series\":\"stream\",\"range\":\"\",\"time\":\"\",\"rollup\":\"\",\"sql\":\"SELECT day, stream, n FROM "
          "daily ORDER BY day, stream\"}"));
  EXPECT_THAT(def, HasSubstr("\"kind\":\"stacked_bar\",\"x\":\"hour\",\"y\":[\"start\",\"click\"]"));

  auto [c0, data] = Get("/api/dashboards/ops/charts/0");
  EXPECT_EQ(c0, 200);
  EXPECT_THAT(data, HasSubstr("\"result\":{\"columns\":[\"day\",\"stream\",\"n\"],\"types\":[\"DATE\",\"VARCHAR\","
                              "\"INTEGER\"],\"rows\":[\n[\"2026-11-01\",\"a\",3],\n[\"2026-11-01\",\"b\",5],\n"
                              "[\"2026-11-02\",\"a\",4],\n[\"2026-11-03\",\"b\",7]]}"));
  // range: 1d keeps the newest day of data and the one a day before it.
  auto [c1, ranged] = Get("/api/dashboards/ops/charts/1");
  EXPECT_EQ(c1, 200);
  EXPECT_THAT(ranged, HasSubstr("\"rows\":[\n[\"2026-11-02\",4],\n[\"2026-11-03\",7]]"));
  // The rollup chart sums over the dimension it leaves out (ad_id).
  auto [c3, rolled] = Get("/api/dashboards/ops/charts/3");
  EXPECT_EQ(c3, 200);
  EXPECT_THAT(rolled, HasSubstr("\"rows\":[\n[\"2026-11-01 10:00:00\",5,1],\n[\"2026-11-01 11:00:00\",1,1]]"));

  // A failing query is the chart's error, with its SQL, not a failed request.
  auto [c2, broken] = Get("/api/dashboards/ops/charts/2");
  EXPECT_EQ(c2, 200);
  EXPECT_THAT(broken, HasSubstr("{\"error\":\""));
  EXPECT_THAT(broken, HasSubstr("missing_table does not exist"));
  EXPECT_THAT(broken, HasSubstr("\"sql\":\"SELECT nope FROM missing_table\""));

  EXPECT_EQ(Get("/api/dashboards/nope").first, 404);
  EXPECT_EQ(Get("/api/dashboards/ops/charts/4").first, 404);
  EXPECT_EQ(Get("/api/auth"), std::make_pair(200, std::string("{\"token_required\":false}\n")));

  auto metrics = Get("/metrics").second;
  EXPECT_THAT(metrics, HasSubstr("sluice_dashboard_requests_total{route=\"chart\"} 5"));
  EXPECT_THAT(metrics, HasSubstr("sluice_dashboard_requests_total{route=\"list\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("sluice_dashboard_requests_total{route=\"definition\"} 2"));
  EXPECT_THAT(metrics, HasSubstr("sluice_dashboard_chart_errors_total{dashboard=\"ops\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("sluice_dashboard_query_micros_total "));
}

TEST_F(DashboardRoutesTest, TheApiNeedsTheTokenThePageDoesNot) {
  ::setenv("SLUICE_DASHBOARD_TEST_TOKEN", "s3cret", 1);
  ASSERT_TRUE(Start("server: { token_env: SLUICE_DASHBOARD_TEST_TOKEN }").ok());
  EXPECT_EQ(Get("/api/dashboards").first, 401);
  EXPECT_EQ(Get("/api/dashboards", "wrong").first, 401);
  EXPECT_EQ(Get("/api/dashboards/ops/charts/0").first, 401);
  EXPECT_EQ(Get("/api/dashboards", "s3cret").first, 200);
  EXPECT_EQ(Get("/api/dashboards/ops/charts/0", "s3cret").first, 200);
  EXPECT_EQ(Get("/api/auth"), std::make_pair(200, std::string("{\"token_required\":true}\n")));
  // The page and its assets hold no data: served without a token, so the page can ask for one.
  for (const char* page : {"/", "/dashboards/ops"}) {
    auto [code, html] = Get(page);
    EXPECT_EQ(code, 200) << page;
    EXPECT_THAT(html, HasSubstr("<script src=\"/assets/app.js\"></script>"));
  }
  auto [code, chartjs] = Get("/assets/chart.umd.js");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(chartjs.substr(0, 200), HasSubstr("Chart.js v4.5.1"));
  EXPECT_EQ(Get("/assets/app.js").first, 200);
  EXPECT_EQ(Get("/assets/nope.js").first, 404);
  ::unsetenv("SLUICE_DASHBOARD_TEST_TOKEN");
}

TEST_F(DashboardRoutesTest, ATimeRangeFiltersTimeChartsAndAMalformedOneIsA400) {
  ASSERT_TRUE(Start("").ok());
  // The rollup chart (time: its bucket) from 11:00: one hour; the bounds come back resolved, with the SQL
  // and its parameters.
  auto [c3, rolled] = Get("/api/dashboards/ops/charts/3?from=2026-11-01T11:00:00Z");
  EXPECT_EQ(c3, 200);
  EXPECT_THAT(rolled, HasSubstr("\"time\":\"hour\",\"from\":\"2026-11-01T11:00:00Z\",\"to\":null,"));
  EXPECT_THAT(rolled, HasSubstr("WHERE \\\"hour\\\" >= $1 GROUP BY"));
  EXPECT_THAT(rolled, HasSubstr("\"params\":[\"2026-11-01T11:00:00Z\"]"));
  EXPECT_THAT(rolled, HasSubstr("\"rows\":[\n[\"2026-11-01 11:00:00\",1,1]]"));
  // [from, to): the upper bound is exclusive.
  EXPECT_THAT(Get("/api/dashboards/ops/charts/3?from=2026-11-01&to=2026-11-01T11:00:00Z").second,
              HasSubstr("\"rows\":[\n[\"2026-11-01 10:00:00\",5,1]]"));
  // range: 1d is the chart's default; a chosen range replaces it ("all": every row).
  EXPECT_THAT(Get("/api/dashboards/ops/charts/1?range=all").second,
              HasSubstr("\"rows\":[\n[\"2026-11-01\",8],\n[\"2026-11-02\",4],\n[\"2026-11-03\",7]]"));
  EXPECT_THAT(Get("/api/dashboards/ops/charts/1?from=2026-11-02&to=2026-11-03").second,
              HasSubstr("\"rows\":[\n[\"2026-11-02\",4]]"));
  // The data is from 2026-11; the last 24 hours of the wall clock hold none of it.
  EXPECT_THAT(Get("/api/dashboards/ops/charts/1?range=24h").second, HasSubstr("\"rows\":[]"));
  // A chart without a time column ignores the range and says so (no bounds, no time).
  auto [c0, plain] = Get("/api/dashboards/ops/charts/0?range=7d");
  EXPECT_EQ(c0, 200);
  EXPECT_THAT(plain, HasSubstr("\"time\":\"\",\"from\":null,\"to\":null,"));
  EXPECT_THAT(plain, HasSubstr("[\"2026-11-03\",\"b\",7]]"));

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"range=7x", "range must be a duration such as 24h, 7d, 30d or 90d, or all; not '7x'"},
      {"range=-1d", "range must be a duration"},
      {"from=yesterday", "from must be an ISO-8601 date or time (2026-11-01 or 2026-11-01T12:00:00Z), not 'yesterday'"},
      {"to=2026-13-01", "to must be an ISO-8601 date or time"},
      {"from=2026-11-02&to=2026-11-01", "from (2026-11-02) must be before to (2026-11-01)"},
      {"range=7d&from=2026-11-01", "give range= or from=/to=, not both"},
  };
  for (const auto& [query, message] : bad) {
    auto [code, body] = Get("/api/dashboards/ops/charts/1?" + query);
    EXPECT_EQ(code, 400) << query;
    EXPECT_THAT(body, HasSubstr(message)) << query;
    EXPECT_EQ(Get("/api/export.csv?dashboard=ops&chart=1&" + query).first, 400) << query;
  }
}

TEST_F(DashboardRoutesTest, ExportsAChartsRowsAsANamedCsv) {
  ASSERT_TRUE(Start("").ok());
  httplib::Client client("127.0.0.1", server_->port());
  auto res = client.Get("/api/export.csv?dashboard=ops&chart=3&from=2026-11-01T10:00:00Z&to=2026-11-01T11:00:00Z");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"ops-events-per-hour-20261101T100000Z-20261101T110000Z.csv\"");
  EXPECT_EQ(res->body, "hour,start,click\r\n2026-11-01 10:00:00,5,1\r\n");
  // Open bounds, and the chart's default range.
  res = client.Get("/api/export.csv?dashboard=ops&chart=1&from=2026-11-02");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"ops-newest-two-days-20261102T000000Z-end.csv\"");
  EXPECT_EQ(res->body, "day,n\r\n2026-11-02,4\r\n2026-11-03,7\r\n");
  res = client.Get("/api/export.csv?dashboard=ops&chart=0");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Disposition"), "attachment; filename=\"ops-rows-per-day-start-end.csv\"");
  EXPECT_EQ(res->body, "day,stream,n\r\n2026-11-01,a,3\r\n2026-11-01,b,5\r\n2026-11-02,a,4\r\n2026-11-03,b,7\r\n");
  // A failing chart, an unknown dashboard or chart; a SQL export still works beside them. (CSV lines end in
  // CRLF, as RFC 4180 has them.)
  EXPECT_EQ(Get("/api/export.csv?dashboard=ops&chart=2").first, 400);
  EXPECT_EQ(Get("/api/export.csv?dashboard=nope&chart=0").first, 404);
  EXPECT_EQ(Get("/api/export.csv?dashboard=ops&chart=9").first, 404);
  EXPECT_EQ(Get("/api/export.csv?dashboard=ops&chart=x").first, 400);
  EXPECT_EQ(Get("/api/export.csv?sql=SELECT%2042%20AS%20a"), std::make_pair(200, std::string("a\r\n42\r\n")));
}

TEST_F(DashboardRoutesTest, AnEditedFileIsReloadedAndABrokenOneKeepsItsLastGoodVersion) {
  ASSERT_TRUE(Start("").ok());
  const auto file = dir_ / "dashboards" / "empty.yaml";
  std::ofstream(file) << "title: Empty no more\ncharts:\n  - { title: n, kind: number, sql: SELECT 42 AS answer }\n"
                         "  - { title: m, kind: number, sql: SELECT 43 AS answer }\n";
  auto [code, def] = Get("/api/dashboards/empty");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(def, HasSubstr("\"title\":\"Empty no more\""));
  EXPECT_THAT(def, HasSubstr("\"index\":1,\"title\":\"m\""));
  EXPECT_THAT(def, HasSubstr("\"reload_error\":\"\"}"));
  EXPECT_THAT(Get("/api/dashboards/empty/charts/1").second, HasSubstr("[43]"));

  // A broken edit: the last good version keeps serving, and the error names file:line:column.
  std::ofstream(file) << "title: Broken\ncharts:\n  - { title: n, kind: line, sql: SELECT 42 AS answer }\n";
  std::tie(code, def) = Get("/api/dashboards/empty");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(def, HasSubstr("\"title\":\"Empty no more\""));
  EXPECT_THAT(def, HasSubstr("empty.yaml:3:5: charts[0].x: a line chart needs its x column"));
  EXPECT_THAT(Get("/api/dashboards").second, HasSubstr("empty.yaml:3:5: charts[0].x"));
  // A new file with an error is not served; a new good one is; a removed one goes.
  std::ofstream(dir_ / "dashboards" / "new.yaml") << "title: New\ncharts: []\n";
  std::ofstream(dir_ / "dashboards" / "fresh.yaml")
      << "title: Fresh\ncharts: [ { title: n, kind: number, sql: SELECT 1 AS one } ]\n";
  std::filesystem::remove(dir_ / "dashboards" / "ops.yaml");
  auto [lc, list] = Get("/api/dashboards");
  EXPECT_EQ(lc, 200);
  EXPECT_THAT(list, HasSubstr("\"name\":\"fresh\""));
  EXPECT_THAT(list, Not(HasSubstr("\"name\":\"new\"")));
  EXPECT_THAT(list, Not(HasSubstr("\"name\":\"ops\"")));
  EXPECT_THAT(list, HasSubstr("new.yaml:2:9: charts: expected a non-empty list of charts"));
  EXPECT_EQ(Get("/api/dashboards/ops").first, 404);
  // Fixed: the error goes.
  std::ofstream(file) << "title: Fixed\ncharts: [ { title: n, kind: number, sql: SELECT 44 AS answer } ]\n";
  std::filesystem::remove(dir_ / "dashboards" / "new.yaml");
  std::tie(code, def) = Get("/api/dashboards/empty");
  EXPECT_THAT(def, HasSubstr("\"title\":\"Fixed\""));
  EXPECT_THAT(def, HasSubstr("\"reload_error\":\"\"}"));
}

TEST_F(DashboardRoutesTest, SplitShowsTheTopValuesOfTheRangeAndTheRestAsOther) {
  std::ofstream(dir_ / "dashboards" / "split.yaml") << R"(title: Split
charts:
  - { title: Top stream, kind: line, sql: "SELECT day, stream, n FROM daily", x: day, split: stream, y: n, top: 1, time: day }
)";
  ASSERT_TRUE(Start("").ok());
  // b (5 + 7) beats a (3 + 4) over all rows; from 2026-11-02 on, a (4) and b (7) still, so b again.
  EXPECT_THAT(Get("/api/dashboards/split/charts/0").second,
              HasSubstr("\"rows\":[\n[\"2026-11-01\",\"b\",5],\n[\"2026-11-01\",\"other\",3],\n"
                        "[\"2026-11-02\",\"other\",4],\n[\"2026-11-03\",\"b\",7]]"));
  // Up to 2026-11-02 (exclusive of 11-03) a has 7 and b 5: the top follows the range.
  EXPECT_THAT(Get("/api/dashboards/split/charts/0?to=2026-11-03").second,
              HasSubstr("\"rows\":[\n[\"2026-11-01\",\"a\",3],\n[\"2026-11-01\",\"other\",5],\n"
                        "[\"2026-11-02\",\"a\",4]]"));
}

TEST_F(DashboardRoutesTest, AnInvalidDashboardFailsTheStart) {
  std::ofstream(dir_ / "dashboards" / "bad.yaml")
      << "title: Bad\ncharts:\n  - { title: x, kind: line, sql: SELECT 1 }\n";
  Status st = Start("");
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("bad.yaml:3:5: charts[0].x: a line chart needs its x column"));
}

}  // namespace
}  // namespace sluice
