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
  EXPECT_EQ(Get("/api/dashboards"),
            std::make_pair(
                200, std::string("{\"dashboards\":[\n"
                                 "{\"name\":\"empty\",\"title\":\"Empty\",\"description\":\"\",\"charts\":1},\n"
                                 "{\"name\":\"ops\",\"title\":\"Operations\",\"description\":\"\",\"charts\":4}]}\n")));
  auto [code, def] = Get("/api/dashboards/ops");
  EXPECT_EQ(code, 200);
  EXPECT_THAT(def, HasSubstr("\"refresh_seconds\":15,"));
  EXPECT_THAT(def,
              HasSubstr("{\"index\":0,\"title\":\"Rows per day\",\"kind\":\"line\",\"x\":\"day\",\"y\":[\"n\"],"
                        "\"series\":\"stream\",\"range\":\"\",\"rollup\":\"\",\"sql\":\"SELECT day, stream, n FROM "
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

TEST_F(DashboardRoutesTest, AnInvalidDashboardFailsTheStart) {
  std::ofstream(dir_ / "dashboards" / "bad.yaml")
      << "title: Bad\ncharts:\n  - { title: x, kind: line, sql: SELECT 1 }\n";
  Status st = Start("");
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(st.message(), HasSubstr("bad.yaml:3:5: charts[0].x: a line chart needs its x column"));
}

}  // namespace
}  // namespace sluice
