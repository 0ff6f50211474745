// Conditional requests outlive the process: `sluice collect` run twice, as two processes (a daily cron job),
// against a fake API that honours If-None-Match. The second run sends the ETags the first one stored in
// `_sluice_http_cache`, gets 304s (paging on through them, Link and `next` alike), and changes no table; no
// token or API key lands in the warehouse. `sluice run`'s scheduler reads the same cache.
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "collect/sample_responses.h"
#include "core/http_test_server.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

constexpr const char* kToken = "ghp-e2e-secret-token";
constexpr const char* kApiKey = "k-e2e-secret-key";

class CollectEtagE2eTest : public ScratchDir {
 protected:
  struct Counts {
    int gets = 0;          // GET requests
    int conditional = 0;   // ... that carried If-None-Match
    int not_modified = 0;  // ... answered 304
  };

  // Answers `body` with its ETag, or a bare 304 (no Link, no body) when If-None-Match names that ETag.
  void Reply(const httplib::Request& req, httplib::Response& res, const std::string& body,
             const std::string& link = "") {
    const std::string etag = "\"" + std::to_string(std::hash<std::string>{}(body)) + "\"";
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_.gets;
    if (req.has_header("If-None-Match")) ++counts_.conditional;
    if (req.has_header("Authorization")) authorization_ = req.get_header_value("Authorization");
    if (req.has_header("X-Api-Key")) api_key_ = req.get_header_value("X-Api-Key");
    res.set_header("ETag", etag);
    if (req.get_header_value("If-None-Match") == etag) {
      ++counts_.not_modified;
      res.status = 304;
      return;
    }
    if (!link.empty()) res.set_header("Link", link);
    res.set_content(body, "application/json");
  }
  Counts TakeCounts() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(counts_, Counts{});
  }

  void ServeFakeApis() {
    auto& s = server_.server();  // handlers ask server_ for the base URL: the port is known once started
    auto serve = [&](const std::string& path, const std::string& file) {
      s.Get(path, [this, file](const httplib::Request& req, httplib::Response& res) {
        Reply(req, res, SampleResponse(file, server_.base_url()));
      });
    };
    serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
    serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
    serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
    serve("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
    serve("/repos/acme/nebula-console/releases", "github/releases_empty.json");
    for (const auto& [path, file] : std::map<std::string, std::string>{{"clones", "clones"},
                                                                       {"views", "views"},
                                                                       {"popular/referrers", "referrers"},
                                                                       {"popular/paths", "paths"}}) {
      serve("/repos/acme/[^/]+/traffic/" + path, "github/traffic_" + file + ".json");
    }
    s.Post("/graphql", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(SampleResponse("github/graphql_totals.json", server_.base_url()), "application/json");
    });
    s.Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
      std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
      Reply(req, res, SampleResponse("dockerhub/repositories_page" + page + ".json", server_.base_url()));
    });
    // Link-header pagination, as GitHub pages: the 304 for page 1 does not repeat the Link.
    s.Get("/api/downloads", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.get_param_value("page") == "2") {
        Reply(req, res, R"({"data":[{"pkg":"sluice-cli","n":12,"day":"2024-09-01"}]})");
      } else {
        Reply(req, res, R"({"data":[{"pkg":"sluice","n":40,"day":"2024-09-01"}]})",
              "<" + server_.base_url() + "/api/downloads?page=2>; rel=\"next\"");
      }
    });
    ASSERT_TRUE(server_.Start());
  }

  std::string Config(const std::string& extra = "") {
    const std::string base = server_.base_url();
    return Write("sluice.yaml",
                 "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\nstreams: {}\n" + extra +
                     "collectors:\n"
                     "  github: { kind: github, org: acme, token_env: SLUICE_E2E_GH_TOKEN, base_url: " +
                     base +
                     " }\n"
                     "  dockerhub: { kind: dockerhub, schedule: \"* * * * *\", namespace: vesoft, page_size: 2, "
                     "base_url: " +
                     base +
                     " }\n"
                     "  downloads:\n"
                     "    kind: http_json\n"
                     "    url: \"" +
                     base +
                     "/api/downloads\"\n"
                     "    headers: { X-Api-Key: { env: SLUICE_E2E_API_KEY } }\n"
                     "    rows: $.data[*]\n"
                     "    fields: { pkg: string, n: int64, day: date }\n"
                     "    key: [pkg, day]\n"
                     "    pagination: link\n");
  }

  void SetUp() override {
    ScratchDir::SetUp();
    ::setenv("SLUICE_E2E_GH_TOKEN", kToken, 1);
    ::setenv("SLUICE_E2E_API_KEY", kApiKey, 1);
  }
  void TearDown() override {
    ::unsetenv("SLUICE_E2E_GH_TOKEN");
    ::unsetenv("SLUICE_E2E_API_KEY");
    ScratchDir::TearDown();
  }

  TestHttpServer server_;
  std::mutex mu_;
  Counts counts_;
  std::string authorization_, api_key_;
};

TEST_F(CollectEtagE2eTest, SecondCollectProcessSendsStoredEtagsGets304sAndChangesNothing) {
  ServeFakeApis();
  const std::string config = Config();
  const std::vector<std::string> collectors = {"github", "dockerhub", "downloads"};
  auto collect_all = [&](std::string* log) {
    for (const std::string& name : collectors) {
      CommandResult r = RunSluice({"collect", "-c", config, name});
      ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
      *log += r.output;
    }
  };
  const std::string tables_sql =
      "SELECT (SELECT count(*) FROM gh_repo_snapshots) || '/' || (SELECT count(*) FROM gh_releases) || '/' || "
      "(SELECT count(*) FROM gh_traffic_clones) || '/' || (SELECT sum(\"count\") FROM gh_traffic_views) || '/' || "
      "(SELECT count(*) FROM gh_referrers) || '/' || (SELECT count(*) FROM gh_paths) || '/' || "
      "(SELECT sum(pull_count) FROM dockerhub_repo_snapshots) || '/' || "
      "(SELECT string_agg(pkg || ':' || n, ',' ORDER BY pkg) FROM downloads)";

  std::string log1;
  collect_all(&log1);
  const Counts first = TakeCounts();
  EXPECT_GT(first.gets, 10);  // org, repos, traffic, releases, docker pages, download pages
  EXPECT_EQ(first.conditional, 0) << "a fresh warehouse has no ETags to send";
  EXPECT_EQ(first.not_modified, 0);
  EXPECT_EQ(authorization_, std::string("Bearer ") + kToken);  // the secrets were sent...
  EXPECT_EQ(api_key_, kApiKey);
  // ...and one cache row per URL fetched, none of them holding a secret.
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_http_cache"), std::to_string(first.gets));
  EXPECT_EQ(QueryScalar(config,
                        "SELECT count(*) FROM _sluice_http_cache WHERE concat(url, etag, headers, body) "
                        "LIKE '%e2e-secret%'"),
            "0");
  EXPECT_EQ(QueryScalar(config, "SELECT headers FROM _sluice_http_cache WHERE url LIKE '%/api/downloads'"),
            "[[\"content-type\",\"application/json\"],[\"link\",\"<" + server_.base_url() +
                "/api/downloads?page=2>; rel=\\\"next\\\"\"]]");
  const std::string tables = QueryScalar(config, tables_sql);
  EXPECT_EQ(tables, "2/2/4/1020/4/4/13300000/sluice:40,sluice-cli:12") << tables;

  std::string log2;
  collect_all(&log2);
  const Counts second = TakeCounts();
  EXPECT_EQ(second.gets, first.gets) << "paging stopped or grew through the 304s";
  EXPECT_EQ(second.conditional, first.gets) << "every GET of the second process carries If-None-Match";
  EXPECT_EQ(second.not_modified, first.gets);
  EXPECT_EQ(QueryScalar(config, tables_sql), tables) << "re-running changes nothing";
  // Both runs of each collector are in the ledger, each with the same rows (a page lost behind a 304 would
  // not show in the upserted tables, but would here).
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(collector || ':' || n || ':' || lo || ':' || hi, ',' ORDER BY collector) "
                        "FROM (SELECT collector, count(*) AS n, min(\"rows\") AS lo, max(\"rows\") AS hi "
                        "FROM _sluice_runs WHERE status = 'succeeded' GROUP BY collector)"),
            "dockerhub:2:3:3,downloads:2:2:2,github:2:20:20");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_runs"), "6");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_http_cache"), std::to_string(first.gets));
  for (const std::string* log : {&log1, &log2}) {
    EXPECT_EQ(log->find("e2e-secret"), std::string::npos) << *log;
  }
}

// The scheduler of `sluice run` uses the same table: a collector that `sluice collect` ran yesterday is asked
// conditionally by the long-running process today.
TEST_F(CollectEtagE2eTest, RunSchedulerReadsTheEtagsACollectProcessStored) {
  ServeFakeApis();
  const int port = FreePort();
  const std::string config = Config("server: { listen: 127.0.0.1:" + std::to_string(port) + " }\n");
  CommandResult r = RunSluice({"collect", "-c", config, "dockerhub"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Counts first = TakeCounts();
  ASSERT_EQ(first.gets, 2);  // two pages
  ASSERT_EQ(first.conditional, 0);

  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20));
  std::string runs;  // the first fire time is the next minute boundary (bounded wait)
  for (int i = 0; i < 150 && runs != "2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    runs =
        QueryScalar(config, "SELECT count(*) FROM _sluice_runs WHERE collector = 'dockerhub' AND status = 'succeeded'");
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
  ASSERT_EQ(runs, "2") << "the scheduler did not run dockerhub within 75 s";
  const Counts scheduled = TakeCounts();
  EXPECT_EQ(scheduled.gets, 2);
  EXPECT_EQ(scheduled.not_modified, 2);
  EXPECT_EQ(QueryScalar(config, "SELECT sum(pull_count) FROM dockerhub_repo_snapshots"), "13300000");
}

}  // namespace
}  // namespace sluice::e2e
