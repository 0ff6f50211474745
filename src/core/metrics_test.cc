#include "core/metrics.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(MetricsTest, HistogramsRenderCumulativeBucketsSumAndCount) {
  Metrics m;
  m.Observe("sluice_http_request_seconds", "route=\"/api/query\"", 0.003);
  m.Observe("sluice_http_request_seconds", "route=\"/api/query\"", 0.2);
  m.Observe("sluice_http_request_seconds", "route=\"/api/query\"", 0.25);  // on a bound: counted in le="0.25"
  m.Observe("sluice_http_request_seconds", "route=\"/api/query\"", 60);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE sluice_http_request_seconds histogram\n"), std::string::npos) << text;
  const std::string p = "sluice_http_request_seconds_bucket{route=\"/api/query\",";
  EXPECT_NE(text.find(p + "le=\"0.005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find(p + "le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find(p + "le=\"0.25\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find(p + "le=\"10\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find(p + "le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_http_request_seconds_sum{route=\"/api/query\"} 60.453\n"), std::string::npos) << text;
  EXPECT_NE(text.find("sluice_http_request_seconds_count{route=\"/api/query\"} 4\n"), std::string::npos) << text;
}

TEST(MetricsTest, CountersAreTypedByTheirName) {
  Metrics m;
  m.Add("sluice_http_requests_total", "route=\"other\",code=\"404\"", 2);
  m.Set("sluice_queue_depth", "", 3);
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE sluice_http_requests_total counter\n"
                      "sluice_http_requests_total{route=\"other\",code=\"404\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE sluice_queue_depth gauge\nsluice_queue_depth 3\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice
