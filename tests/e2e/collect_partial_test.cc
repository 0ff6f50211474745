// Partial collector runs end to end: one repository of two fails (an HTML error page), the other is landed
// and loaded, the run is `partial` in _sluice_runs and `sluice status` with notes that name the skipped
// traffic; the failing body is landed beside the run without the token; re-running the slot completes
// what was missing and duplicates nothing.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "collect/sample_responses.h"
#include "core/http_test_server.h"

#include "harness.h"

namespace sluice::e2e {
namespace {

class CollectPartialE2eTest : public ScratchDir {
 protected:
  void Serve() {
    auto& s = server_.server();
    auto sample = [&](const std::string& path, const std::string& file) {
      s.Get(path, [this, file](const httplib::Request&, httplib::Response& res) {
        res.set_content(SampleResponse(file, server_.base_url()), "application/json");
      });
    };
    s.Get("/repos/acme/flaky", [this](const httplib::Request&, httplib::Response& res) {
      if (flaky_calls_++ == 0) {
        res.status = 404;
        res.set_content("<html><body><h1>Proxy error</h1>upstream said 404</body></html>", "text/html");
        return;
      }
      res.set_content(SampleResponse("github/repos_acme_nebula-console.json", server_.base_url()), "application/json");
    });
    sample("/repos/acme/nebula", "github/repos_acme_nebula.json");
    sample("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
    sample("/repos/acme/flaky/releases", "github/releases_empty.json");
    // The token has push access to neither: traffic is skipped, and says so.
    auto no_push = [](const httplib::Request&, httplib::Response& res) {
      res.status = 403;
      res.set_content(R"({"message":"Must have push access to repository"})", "application/json");
    };
    s.Get("/repos/acme/nebula/traffic/clones", no_push);
    s.Get("/repos/acme/flaky/traffic/clones", no_push);
    s.Post("/graphql", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(SampleResponse("github/graphql_totals.json", server_.base_url()), "application/json");
    });
    ASSERT_TRUE(server_.Start());
  }
  TestHttpServer server_;
  std::atomic<int> flaky_calls_{0};
};

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(CollectPartialE2eTest, OneFailedRepositoryMakesAPartialRunWithEvidenceAndTheRerunCompletesIt) {
  Serve();
  ::setenv("SLUICE_E2E_GH_TOKEN", "ghp_e2e_secret_token", 1);
  const std::string config =
      Write("sluice.yaml", "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\nstreams: {}\n"
                           "collectors:\n"
                           "  gh: { kind: github, repos: [acme/nebula, acme/flaky], token_env: SLUICE_E2E_GH_TOKEN, "
                           "max_attempts: 1, base_url: " + server_.base_url() + " }\n");
  CommandResult first = RunSluice({"collect", "-c", config, "gh"});
  EXPECT_EQ(first.exit_code, 1) << first.output;
  EXPECT_NE(first.output.find("partial"), std::string::npos) << first.output;
  EXPECT_EQ(QueryScalar(config, "SELECT status FROM _sluice_runs"), "partial");
  EXPECT_NE(QueryScalar(config, "SELECT error FROM _sluice_runs").find("acme/flaky"), std::string::npos);
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(repo, ',' ORDER BY repo) FROM gh_repo_snapshots"), "acme/nebula");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM gh_releases"), "2");
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(s->>'$.part' || ':' || (s->>'$.what'), ',') FROM "
                                "(SELECT unnest(from_json(notes->'$.skipped', '[\"JSON\"]')) AS s FROM _sluice_runs)"),
            "acme/nebula:traffic");
  EXPECT_EQ(QueryScalar(config, "SELECT notes->>'$.failed[0].part' FROM _sluice_runs"), "acme/flaky");
  EXPECT_NE(QueryScalar(config, "SELECT (notes->>'$.pages_fetched')::INT FROM _sluice_runs"), "0");

  // The failing body is landed beside the run, without the token or any request header.
  const std::string evidence_path = QueryScalar(config, "SELECT notes->>'$.evidence' FROM _sluice_runs");
  ASSERT_TRUE(std::filesystem::exists(evidence_path)) << evidence_path;
  const std::string evidence = ReadAll(evidence_path);
  EXPECT_NE(evidence.find("Proxy error"), std::string::npos) << evidence;
  EXPECT_NE(evidence.find("\"status\": 404"), std::string::npos) << evidence;
  EXPECT_EQ(evidence.find("ghp_e2e_secret_token"), std::string::npos);
  EXPECT_EQ(evidence.find("Authorization"), std::string::npos);

  CommandResult status = RunSluice({"status", "-c", config});
  EXPECT_NE(status.output.find("Collectors"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("partial"), std::string::npos) << status.output;

  // The re-run completes the missing repository; nothing is duplicated.
  CommandResult second = RunSluice({"collect", "-c", config, "gh"});
  EXPECT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(status, ',' ORDER BY started_at) FROM _sluice_runs"),
            "partial,succeeded");
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(repo, ',' ORDER BY repo) FROM gh_repo_snapshots"),
            "acme/flaky,acme/nebula");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) || '/' || count(DISTINCT (repo, day, release_id)) FROM gh_releases"),
            "2/2");
  ::unsetenv("SLUICE_E2E_GH_TOKEN");
}

}  // namespace
}  // namespace sluice::e2e
