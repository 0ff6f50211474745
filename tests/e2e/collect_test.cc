// `sluice collect` end to end: github, dockerhub and an http_json collector against a loopback fake API
// (a 502 once, then success), the tables' contents, re-running changes nothing, and a failed run recorded
// in _sluice_runs with its error.
#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "collect/sample_responses.h"
#include "core/http_test_server.h"

#include "harness.h"

namespace sluice::e2e {
namespace {

class CollectE2eTest : public ScratchDir {
 protected:
  void ServeFakeApis() {
    auto& s = server_.server();
    auto serve = [&](const std::string& path, const std::string& file) {
      s.Get(path, [this, file](const httplib::Request&, httplib::Response& res) {
        res.set_content(SampleResponse(file, server_.base_url()), "application/json");
      });
    };
    serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
    serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
    serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
    serve("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
    serve("/repos/acme/nebula-console/releases", "github/releases_empty.json");
    s.Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
      std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
      res.set_content(SampleResponse("dockerhub/repositories_page" + page + ".json", server_.base_url()), "application/json");
    });
    s.Get("/api/downloads", [this](const httplib::Request& req, httplib::Response& res) {
      if (flaky_calls_++ == 0) {
        res.status = 502;
        return;
      }
      auth_ = req.get_header_value("X-Api-Key");
      if (req.get_param_value("page") == "2") {
        res.set_content(R"({"data":[{"pkg":"sluice-cli","stats":{"n":"12"},"day":"2024-09-01"}],"next":null})",
                        "application/json");
      } else {
        res.set_content(R"({"data":[{"pkg":"sluice","stats":{"n":40},"day":"2024-09-01"}],"next":")" +
                            server_.base_url() + R"(/api/downloads?page=2"})",
                        "application/json");
      }
    });
    s.Get("/api/broken", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("internal error", "text/plain");
    });
    ASSERT_TRUE(server_.Start());
  }
  std::string Config() {
    const std::string base = server_.base_url();
    return Write("sluice.yaml", "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\nstreams: {}\n"
                                "collectors:\n"
                                "  github: { kind: github, org: acme, token_env: SLUICE_E2E_UNSET_TOKEN, base_url: " + base + " }\n"
                                "  dockerhub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " + base + " }\n"
                                "  downloads:\n"
                                "    kind: http_json\n"
                                "    url: \"" + base + "/api/downloads?day={{date}}\"\n"
                                "    headers: { X-Api-Key: { env: SLUICE_E2E_API_KEY } }\n"
                                "    rows: $.data[*]\n"
                                "    fields: { pkg: string, n: { path: $.stats.n, type: int64 }, day: date }\n"
                                "    key: [pkg, day]\n"
                                "    next_field: $.next\n"
                                "    backoff: 10ms\n"
                                "  broken: { kind: http_json, url: \"" + base + "/api/broken\", fields: { id: int64 }, max_attempts: 2, backoff: 10ms }\n");
  }
  TestHttpServer server_;
  std::atomic<int> flaky_calls_{0};
  std::string auth_;
};

TEST_F(CollectE2eTest, CollectsEachSourceRerunsChangeNothingAndFailuresAreRecorded) {
  ServeFakeApis();
  ::setenv("SLUICE_E2E_API_KEY", "k-123", 1);
  const std::string config = Config();
  for (const char* name : {"github", "dockerhub", "downloads"}) {
    CommandResult r = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_NE(r.output.find("succeeded"), std::string::npos) << r.output;
  }
  EXPECT_EQ(flaky_calls_.load(), 3);  // the 502, then two pages
  EXPECT_EQ(auth_, "k-123");
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(repo || '=' || stars, ',' ORDER BY repo) FROM gh_repo_snapshots"),
            "acme/nebula=1200,acme/nebula-console=80");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(pull_count) FROM dockerhub_repo_snapshots"), "13300000");
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(pkg || ':' || n || ':' || day, ',' ORDER BY pkg) FROM downloads"),
            "sluice:40:2024-09-01,sluice-cli:12:2024-09-01");
  const std::string snapshot_sql =
      "SELECT (SELECT count(*) FROM gh_repo_snapshots) || '/' || (SELECT count(*) FROM gh_releases) || '/' || "
      "(SELECT count(*) FROM dockerhub_repo_snapshots) || '/' || (SELECT count(*) FROM downloads) || '/' || "
      "(SELECT sum(n) FROM downloads)";
  const std::string before = QueryScalar(config, snapshot_sql);
  EXPECT_EQ(before, "2/2/3/2/52");

  for (const char* name : {"github", "dockerhub", "downloads"}) {
    CommandResult r = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
  }
  EXPECT_EQ(QueryScalar(config, snapshot_sql), before);
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_runs WHERE status = 'succeeded'"), "6");

  CommandResult failed = RunSluice({"collect", "-c", config, "broken"});
  EXPECT_EQ(failed.exit_code, 1) << failed.output;
  EXPECT_EQ(QueryScalar(config, "SELECT status FROM _sluice_runs WHERE collector = 'broken'"), "failed");
  const std::string error = QueryScalar(config, "SELECT error FROM _sluice_runs WHERE collector = 'broken'");
  EXPECT_NE(error.find("500"), std::string::npos) << error;
  EXPECT_NE(QueryScalar(config, "SELECT ended_at IS NOT NULL FROM _sluice_runs WHERE collector = 'broken'"), "false");
  ::unsetenv("SLUICE_E2E_API_KEY");
}

TEST_F(CollectE2eTest, UnknownCollectorAndBadConfigAreClearErrors) {
  std::string config = Write("sluice.yaml", "warehouse: { kind: duckdb, path: wh.duckdb }\nstreams: {}\ncollectors:\n"
                                            "  x: { kind: github, schedule: \"0 25 * * *\", org: acme }\n");
  CommandResult r = RunSluice({"collect", "-c", config, "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("sluice.yaml:4:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("collectors.x.schedule"), std::string::npos) << r.output;
  CommandResult cron = RunSluice({"cron", "0 0 29 2 *", "--from", "2024-01-01T00:00:00Z", "-n", "2"});
  EXPECT_EQ(cron.exit_code, 0) << cron.output;
  EXPECT_NE(cron.output.find("2024-02-29T00:00:00"), std::string::npos) << cron.output;
  EXPECT_NE(cron.output.find("2028-02-29T00:00:00"), std::string::npos) << cron.output;
}


// Under `sluice run` nobody types `collect`: the scheduler fires each collector at its cron time, a failing one
// is recorded as failed and tried again at a later tick, and the tables fill while the process serves queries.
TEST_F(CollectE2eTest, RunSchedulesCollectorsByCronWithNoHuman) {
  ServeFakeApis();
  const std::string base = server_.base_url();
  int port = FreePort();
  std::string config = Write("sluice.yaml", "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\n"
                             "server: { listen: 127.0.0.1:" + std::to_string(port) + " }\nstreams: {}\ncollectors:\n"
                             "  dockerhub: { kind: dockerhub, schedule: \"* * * * *\", namespace: vesoft, page_size: 2, base_url: " +
                             base + " }\n"
                             "  broken: { kind: http_json, schedule: \"* * * * *\", url: \"" + base +
                             "/api/broken\", fields: { id: int64 }, max_attempts: 1 }\n");
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20));
  // The first fire time is the next minute boundary: wait for it (bounded).
  std::string runs;
  for (int i = 0; i < 150 && runs != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    runs = QueryScalar(config, "SELECT count(*) FROM _sluice_runs WHERE collector = 'dockerhub' AND status = 'succeeded'");
  }
  EXPECT_EQ(runs, "1") << "the scheduler did not run dockerhub within 75 s";
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM dockerhub_repo_snapshots"), "3");
  for (int i = 0; i < 20; ++i) {
    if (QueryScalar(config, "SELECT count(*) FROM _sluice_runs WHERE collector = 'broken'") != "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(QueryScalar(config, "SELECT status FROM _sluice_runs WHERE collector = 'broken' LIMIT 1"), "failed");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
}

}  // namespace
}  // namespace sluice::e2e
