#include "serve/http_metrics.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(HttpMetricsTest, RoutesAreLabelledByPatternNotPath) {
  EXPECT_EQ(RouteLabel("/ingest/tracking"), "/ingest/<stream>");
  EXPECT_EQ(RouteLabel("/ingest/other_stream"), "/ingest/<stream>");
  EXPECT_EQ(RouteLabel("/api/query"), "/api/query");
  EXPECT_EQ(RouteLabel("/api/export.csv"), "/api/export.csv");
  EXPECT_EQ(RouteLabel("/api/dashboards/tracking/charts/3"), "/api/dashboards/<name>/charts/<i>");
  EXPECT_EQ(RouteLabel("/api/dashboards/tracking"), "/api/dashboards/<name>");
  EXPECT_EQ(RouteLabel("/dashboards/tracking"), "/dashboards/<name>");
  EXPECT_EQ(RouteLabel("/assets/app.js"), "/assets/<file>");
  EXPECT_EQ(RouteLabel("/"), "/");
  EXPECT_EQ(RouteLabel("/metrics"), "/metrics");
  EXPECT_EQ(RouteLabel("/wp-admin/install.php"), "other");
  EXPECT_EQ(RouteLabel("/ingest/a/b"), "other");
}

TEST(HttpMetricsTest, RequestsAreCountedByRouteAndCodeAndTimedByRoute) {
  Metrics m;
  RecordHttpRequest(m, "/ingest/a", 200, 0.02);
  RecordHttpRequest(m, "/ingest/b", 200, 0.02);
  RecordHttpRequest(m, "/ingest/b", 413, -1);  // not timed
  EXPECT_EQ(m.Get("sluice_http_requests_total", "route=\"/ingest/<stream>\",code=\"200\""), 2);
  EXPECT_EQ(m.Get("sluice_http_requests_total", "route=\"/ingest/<stream>\",code=\"413\""), 1);
  EXPECT_NE(m.Render().find("sluice_http_request_seconds_count{route=\"/ingest/<stream>\"} 2\n"), std::string::npos);
}

}  // namespace
}  // namespace sluice
