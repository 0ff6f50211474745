// Under `sluice run`, a collector run that is partial (its second page fails, the first loads) is counted on
// /metrics as sluice_collector_runs_total{collector,status="partial"}, as a dashboard or alert scrapes it.
#include <chrono>
#include <thread>

#include "core/http_test_server.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

class CollectRunMetricsTest : public ScratchDir {};

TEST_F(CollectRunMetricsTest, APartialScheduledRunIsCountedOnMetrics) {
  TestHttpServer api;
  api.server().Get("/v1/events", [&api](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("page")) {
      res.status = 500;
      res.set_content("upstream failed", "text/plain");
      return;
    }
    res.set_content(R"({"data":[{"id":1},{"id":2}],"next":")" + api.base_url() + R"(/v1/events?page=2"})",
                    "application/json");
  });
  ASSERT_TRUE(api.Start());
  const int port = FreePort();
  const std::string config =
      Write("sluice.yaml",
            "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\n"
            "server: { listen: 127.0.0.1:" +
                std::to_string(port) +
                " }\nstreams: {}\ncollectors:\n"
                "  events: { kind: http_json, schedule: \"* * * * *\", url: \"" +
                api.base_url() +
                "/v1/events\", rows: $.data, fields: { id: int64 }, next_field: $.next, max_attempts: 1 }\n");
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20));
  // The first slot is the next minute boundary: scrape until the run's end is counted (bounded).
  const std::string want = "sluice_collector_runs_total{collector=\"events\",status=\"partial\"} 1";
  std::string metrics;
  for (int i = 0; i < 150 && metrics.find(want) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    metrics = HttpGet(port, "/metrics").second;
  }
  EXPECT_NE(metrics.find(want), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("sluice_collector_runs_total{collector=\"events\",status=\"succeeded\"}"), std::string::npos);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
  EXPECT_EQ(
      QueryScalar(config, "SELECT status || '/' || \"rows\" FROM _sluice_runs WHERE collector = 'events' LIMIT 1"),
      "partial/2");
}

}  // namespace
}  // namespace sluice::e2e
