// RunCollector's HTTP client speaks of the API it calls: a Docker Hub 429 is noted in the run's
// rate-limit waits with Docker Hub's words, not GitHub's "secondary rate limit".
#include "collect/collector_runner.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/http_test_server.h"
#include "core/time.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

using nlohmann::json;

TEST(CollectorRunnerTest, DockerHub429IsNotedInDockerHubsWords) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("collector_runner_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  TestHttpServer server;
  int hits = 0;
  server.server().Get("/v2/namespaces/vesoft/repositories", [&](const httplib::Request&, httplib::Response& res) {
    if (++hits == 1) {  // Docker Hub's 429 without X-Retry-After: the client backs off from a minute
      res.status = 429;
      res.set_content("Too Many Requests", "text/plain");
      return;
    }
    res.set_content(R"({"count":1,"next":null,"previous":null,"results":[{"name":"nebula-graphd","namespace":"vesoft",
      "pull_count":5000,"star_count":4,"last_updated":"2024-09-01T12:00:00Z"}]})",
                    "application/json");
  });
  ASSERT_TRUE(server.Start());
  auto configs = ReadCollectors(YAML::Load("collectors:\n  hub: { kind: dockerhub, namespace: vesoft, base_url: " +
                                           server.base_url() + " }\n")["collectors"],
                                "test.yaml");
  ASSERT_TRUE(configs.ok()) << configs.status().ToString();
  auto wh = DuckDbWarehouse::Open((dir / "wh.duckdb").string());
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  FakeClock clock;
  RunReport report;
  RunContext ctx{"hub", "hub/r1", clock.Now(), {}, {}, &clock, &report};
  auto run = RunCollector((*configs)[0], ctx, {(dir / "landing").string(), DirectWarehouseAccess(**wh), nullptr});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(hits, 2);
  EXPECT_EQ(run->rows, 1);
  const json notes = json::parse(run->notes_json);
  ASSERT_EQ(notes["rate_limit_waits"].size(), 1u) << notes.dump();
  const std::string wait = notes["rate_limit_waits"][0];
  EXPECT_NE(wait.find("HTTP 429 Docker Hub rate limit (HTTP 429), waited 60.000s"), std::string::npos) << wait;
  EXPECT_EQ(wait.find("secondary"), std::string::npos) << wait;
  EXPECT_EQ(json::parse(report.notes)["rate_limit_waits"], notes["rate_limit_waits"]);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
