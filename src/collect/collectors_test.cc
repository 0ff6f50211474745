// GitHub and Docker Hub collectors against a loopback server that serves the sample responses in testdata/.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "collect/sample_responses.h"
#include "collect/dockerhub_collector.h"
#include "collect/github_collector.h"
#include "core/http_test_server.h"
#include "core/time.h"

namespace sluice {
namespace {

using nlohmann::json;

class CollectorsTest : public ::testing::Test {
 protected:
  void Serve(const std::string& path, const std::string& fixture) {
    server_.server().Get(path, [this, fixture](const httplib::Request&, httplib::Response& res) {
      res.set_content(SampleResponse(fixture, server_.base_url()), "application/json");
    });
  }
  void ServeGitHub() {
    Serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
    Serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
    Serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
    Serve("/repos/acme/nebula/traffic/clones", "github/traffic_clones.json");
    Serve("/repos/acme/nebula/traffic/views", "github/traffic_views.json");
    Serve("/repos/acme/nebula/traffic/popular/referrers", "github/traffic_referrers.json");
    Serve("/repos/acme/nebula/traffic/popular/paths", "github/traffic_paths.json");
    Serve("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
    Serve("/repos/acme/nebula-console/releases", "github/releases_empty.json");
    // The token has no push access to nebula-console.
    server_.server().Get("/repos/acme/nebula-console/traffic/clones", [](const httplib::Request&, httplib::Response& res) {
      res.status = 403;
      res.set_content(R"({"message":"Must have push access to repository","documentation_url":"https://docs.github.com/rest/metrics/traffic"})",
                      "application/json");
    });
    server_.server().Post("/graphql", [this](const httplib::Request& req, httplib::Response& res) {
      graphql_bodies_.push_back(req.body);
      res.set_content(SampleResponse("github/graphql_totals.json", server_.base_url()), "application/json");
    });
  }
  HttpClientOptions Options(const std::string& token_env = "") {
    HttpClientOptions o;
    o.base_url = server_.base_url();
    o.clock = &clock_;
    o.token_env = token_env;
    return o;
  }
  static const json* Find(const std::vector<json>& rows, const std::string& key, const std::string& value) {
    for (const json& r : rows) {
      if (r.value(key, "") == value) return &r;
    }
    return nullptr;
  }

  FakeClock clock_;
  TestHttpServer server_;
  std::vector<std::string> graphql_bodies_;
  const TimePoint collected_at_ = TimePoint(std::chrono::microseconds(ParseIsoMicros("2024-09-02T03:00:00Z").value()));
};

TEST_F(CollectorsTest, GitHubOrganisationWithToken) {
  ServeGitHub();
  ASSERT_TRUE(server_.Start());
  ::setenv("SLUICE_TEST_GITHUB_TOKEN", "ghp_test", 1);
  HttpClient client(Options("SLUICE_TEST_GITHUB_TOKEN"));
  auto out = CollectGitHub(client, GitHubCollectorConfig{"acme", {}}, "github/run1", collected_at_);
  ::unsetenv("SLUICE_TEST_GITHUB_TOKEN");
  ASSERT_TRUE(out.ok()) << out.status().ToString();

  const auto& snaps = out->rows["gh_repo_snapshots"];
  ASSERT_EQ(snaps.size(), 2u);
  const json* nebula = Find(snaps, "repo", "acme/nebula");
  ASSERT_NE(nebula, nullptr);
  EXPECT_EQ((*nebula)["day"], "2024-09-02");
  EXPECT_EQ((*nebula)["stars"], 1200);
  EXPECT_EQ((*nebula)["subscribers"], 95);
  EXPECT_EQ((*nebula)["pushed_at"], "2024-09-02 08:15:00");
  EXPECT_EQ((*nebula)["issues_total"], 2400);
  EXPECT_EQ((*nebula)["issues_closed"], 2359);
  EXPECT_EQ((*nebula)["prs_merged"], 2800);
  EXPECT_EQ((*nebula)["run_id"], "github/run1");
  ASSERT_EQ(graphql_bodies_.size(), 2u);
  EXPECT_EQ(json::parse(graphql_bodies_[0])["variables"], (json{{"owner", "acme"}, {"name", "nebula"}}));

  // Traffic for the repository the token can push to; a note, not a failure, for the other.
  const auto& clones = out->rows["gh_traffic_clones"];
  ASSERT_EQ(clones.size(), 2u);
  EXPECT_EQ(clones[1], (json{{"repo", "acme/nebula"}, {"day", "2024-09-01"}, {"count", 35}, {"uniques", 12},
                            {"collected_at", "2024-09-02 03:00:00"}, {"run_id", "github/run1"}}));
  EXPECT_EQ(out->rows["gh_traffic_views"].size(), 2u);
  EXPECT_EQ(out->rows["gh_referrers"].size(), 2u);
  EXPECT_EQ(out->rows["gh_paths"][1]["title"], "Releases · acme/nebula");
  EXPECT_EQ(out->notes, std::vector<std::string>{"acme/nebula-console: traffic skipped: the token has no push access (HTTP 403)"});

  const auto& releases = out->rows["gh_releases"];
  ASSERT_EQ(releases.size(), 2u);
  EXPECT_EQ(releases[0]["tag"], "v3.8.0");
  EXPECT_EQ(releases[0]["prerelease"], false);
  EXPECT_EQ(releases[1]["prerelease"], true);
  ASSERT_EQ(releases[0]["assets"].size(), 2u);
  EXPECT_EQ(releases[0]["assets"][1]["download_count"], 2100);
  EXPECT_EQ(releases[0]["assets"][1]["created_at"], "2024-05-10 09:32:00");

  // Every response is landed with its URL and status, the 403 included.
  bool saw_403 = false;
  for (const LandedResponse& r : out->responses) {
    EXPECT_EQ(r.url.rfind(server_.base_url(), 0), 0u) << r.url;
    saw_403 |= r.status == 403;
  }
  EXPECT_TRUE(saw_403);
  EXPECT_EQ(out->responses.size(), 1u + 2 /*repos*/ + 2 /*graphql*/ + 4 /*traffic*/ + 1 /*403*/ + 2 /*releases*/);
}

TEST_F(CollectorsTest, GitHubWithoutTokenSkipsTrafficAndTotals) {
  ServeGitHub();
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options("SLUICE_TEST_UNSET_TOKEN"));
  auto out = CollectGitHub(client, GitHubCollectorConfig{"", {"acme/nebula"}}, "github/run2", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->rows["gh_repo_snapshots"].size(), 1u);
  EXPECT_FALSE(out->rows["gh_repo_snapshots"][0].contains("issues_total"));
  EXPECT_EQ(out->rows.count("gh_traffic_clones"), 0u);
  EXPECT_EQ(out->rows["gh_releases"].size(), 2u);
  EXPECT_TRUE(graphql_bodies_.empty());
  ASSERT_EQ(out->notes.size(), 1u);
  EXPECT_EQ(out->notes[0], "no token: traffic and issue/PR totals skipped (set SLUICE_TEST_UNSET_TOKEN)");
}

TEST_F(CollectorsTest, GitHubMissingRepositoryFailsTheRun) {
  ASSERT_TRUE(server_.Start());  // nothing served: every path is a 404
  HttpClient client(Options());
  auto out = CollectGitHub(client, GitHubCollectorConfig{"", {"acme/gone"}}, "github/run3", collected_at_);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsNotFound());
  EXPECT_EQ(out.status().message().rfind("github acme/gone: GET " + server_.base_url() + "/repos/acme/gone: HTTP 404", 0), 0u)
      << out.status().message();
}

TEST_F(CollectorsTest, DockerHubFollowsNextPages) {
  server_.server().Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
    std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
    res.set_content(SampleResponse("dockerhub/repositories_page" + page + ".json", server_.base_url()), "application/json");
  });
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options());
  auto out = CollectDockerHub(client, DockerHubCollectorConfig{"vesoft", 2}, "dockerhub/run1", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& rows = out->rows["dockerhub_repo_snapshots"];
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (json{{"namespace", "vesoft"}, {"repo", "nebula-graphd"}, {"day", "2024-09-02"},
                          {"pull_count", 5000000}, {"star_count", 40}, {"last_updated", "2024-09-01 12:00:00.123456"},
                          {"collected_at", "2024-09-02 03:00:00"}, {"run_id", "dockerhub/run1"}}));
  EXPECT_EQ(rows[2]["repo"], "nebula-metad");
  EXPECT_EQ(out->responses.size(), 2u);
}

}  // namespace
}  // namespace sluice
