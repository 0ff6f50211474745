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

TEST_F(CollectorsTest, GitHubRepositoryReleaseAndAssetFieldsAsAMaintainerReadsThem) {
  ServeGitHub();
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options("SLUICE_TEST_UNSET_TOKEN"));
  auto out = CollectGitHub(client, GitHubCollectorConfig{"acme", {}}, "github/run1", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();

  const auto& snaps = out->rows["gh_repo_snapshots"];
  const json* nebula = Find(snaps, "repo", "acme/nebula");
  const json* console = Find(snaps, "repo", "acme/nebula-console");
  ASSERT_NE(nebula, nullptr);
  ASSERT_NE(console, nullptr);
  // watchers_count is the star count on GitHub: not stored; the watchers are subscribers_count.
  EXPECT_FALSE(nebula->contains("watchers"));
  EXPECT_EQ((*nebula)["subscribers"], 95);
  EXPECT_EQ((*nebula)["archived"], false);
  EXPECT_EQ((*nebula)["fork"], false);
  EXPECT_EQ((*nebula)["language"], "C++");
  EXPECT_EQ((*nebula)["topics"], (json{"database", "distributed-database", "graph-database"}));
  EXPECT_EQ((*nebula)["license"], "Apache-2.0");  // the SPDX id
  EXPECT_EQ((*console)["archived"], true);
  EXPECT_EQ((*console)["fork"], true);
  EXPECT_EQ((*console)["topics"], json::array());
  EXPECT_EQ((*console)["license"], "Other");  // spdx_id NOASSERTION: GitHub's name for it

  const auto& releases = out->rows["gh_releases"];
  ASSERT_EQ(releases.size(), 2u);
  EXPECT_EQ(releases[0]["draft"], false);
  EXPECT_EQ(releases[0]["created_at"], "2024-05-10 09:00:00");
  const json& rpm = releases[0]["assets"][0];
  EXPECT_EQ(rpm["id"], 9001);
  EXPECT_EQ(rpm["label"], "RPM (EL7, x86_64)");
  EXPECT_EQ(rpm["digest"], "sha256:1f0f3b6c2a5e4d7c8b9a0e1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a493");
  const json& deb = releases[0]["assets"][1];
  EXPECT_EQ(deb["id"], 9002);
  EXPECT_EQ(deb["label"], "");
  EXPECT_TRUE(deb["digest"].is_null());  // uploaded before GitHub computed digests
}

TEST_F(CollectorsTest, GitHubDraftReleaseAndAReUploadedAssetKeepTheirOwnIds) {
  Serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
  Serve("/repos/acme/nebula/releases", "github/releases_acme_nebula_reuploaded.json");
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options("SLUICE_TEST_UNSET_TOKEN"));
  auto out = CollectGitHub(client, GitHubCollectorConfig{"", {"acme/nebula"}}, "github/run2", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& releases = out->rows["gh_releases"];
  ASSERT_EQ(releases.size(), 3u);
  EXPECT_EQ(releases[0]["assets"][1]["name"], "nebula-graph-3.8.0.ubuntu2004.amd64.deb");
  EXPECT_EQ(releases[0]["assets"][1]["id"], 9012);
  EXPECT_EQ(releases[0]["assets"][1]["download_count"], 40);
  EXPECT_EQ(releases[2]["tag"], "v3.9.0");
  EXPECT_EQ(releases[2]["draft"], true);
  EXPECT_TRUE(releases[2]["published_at"].is_null());
  EXPECT_EQ(releases[2]["created_at"], "2024-09-02 16:00:00");
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

TEST_F(CollectorsTest, GitHubMissingRepositoryIsAFailedPartWithItsResponse) {
  ASSERT_TRUE(server_.Start());  // nothing served: every path is a 404
  HttpClient client(Options());
  auto out = CollectGitHub(client, GitHubCollectorConfig{"", {"acme/gone"}}, "github/run3", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->parts_ok, 0);
  ASSERT_EQ(out->failed.size(), 1u);
  EXPECT_EQ(out->failed[0].part, "acme/gone");
  EXPECT_TRUE(out->failed[0].error.IsNotFound());
  EXPECT_EQ(out->failed[0].error.message().rfind("github acme/gone: GET " + server_.base_url() + "/repos/acme/gone: HTTP 404", 0), 0u)
      << out->failed[0].error.message();
  ASSERT_TRUE(out->failed[0].response.has_value());
  EXPECT_EQ(out->failed[0].response->status, 404);
}

TEST_F(CollectorsTest, GitHubOneBadRepositoryLeavesNoRowsAndTheOthersAreCollected) {
  Serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
  Serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
  Serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
  Serve("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
  // A proxy's HTML error page where the releases of nebula-console should be: that repository fails whole
  // (its snapshot row, already collected, is dropped), nebula is collected in full.
  server_.server().Get("/repos/acme/nebula-console/releases", [](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content("<html><body>Proxy error: upstream timed out</body></html>", "text/html");
  });
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options());
  auto out = CollectGitHub(client, GitHubCollectorConfig{"acme", {}}, "github/run4", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->parts_ok, 1);
  ASSERT_EQ(out->failed.size(), 1u);
  EXPECT_EQ(out->failed[0].part, "acme/nebula-console");
  ASSERT_TRUE(out->failed[0].response.has_value());
  EXPECT_NE(out->failed[0].response->body.find("Proxy error"), std::string::npos);
  EXPECT_EQ(out->failed[0].response->content_type, "text/html");
  ASSERT_EQ(out->rows["gh_repo_snapshots"].size(), 1u);
  EXPECT_EQ(out->rows["gh_repo_snapshots"][0]["repo"], "acme/nebula");
  EXPECT_EQ(out->rows["gh_releases"].size(), 2u);
}

TEST_F(CollectorsTest, GitHubTrafficWithoutPushAccessIsASkippedPartNotAFailure) {
  ServeGitHub();
  ASSERT_TRUE(server_.Start());
  ::setenv("SLUICE_TEST_GITHUB_TOKEN", "ghp_test", 1);
  HttpClient client(Options("SLUICE_TEST_GITHUB_TOKEN"));
  auto out = CollectGitHub(client, GitHubCollectorConfig{"", {"acme/nebula-console"}}, "github/run5", collected_at_);
  ::unsetenv("SLUICE_TEST_GITHUB_TOKEN");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->failed.empty());
  EXPECT_EQ(out->parts_ok, 1);
  ASSERT_EQ(out->skipped.size(), 1u);
  EXPECT_EQ(out->skipped[0].part, "acme/nebula-console");
  EXPECT_EQ(out->skipped[0].what, "traffic");
  EXPECT_EQ(out->skipped[0].reason, "the token has no push access (HTTP 403)");
}

TEST_F(CollectorsTest, GitHubReleasesOverThreePagesFollowLinksToAnotherPathWithApiHeaders) {
  // GitHub's Link headers name /repositories/<id>/releases, not the /repos/<owner>/<name> path requested.
  std::vector<std::string> accepts, versions, paths;
  auto page = [this](int n) {
    json list = json::array();
    for (int i = 0; i < 10; ++i) {
      const int id = n * 100 + i;
      list.push_back({{"id", id}, {"tag_name", "v" + std::to_string(id)}, {"name", "r"}, {"prerelease", false},
                      {"published_at", "2024-09-01T00:00:00Z"}, {"assets", json::array()}});
    }
    return list.dump();
  };
  auto record = [&](const httplib::Request& req) {
    accepts.push_back(req.get_header_value("Accept"));
    versions.push_back(req.get_header_value("X-GitHub-Api-Version"));
    paths.push_back(req.path + (req.has_param("page") ? "?page=" + req.get_param_value("page") : ""));
  };
  server_.server().Get("/repos/acme/nebula", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"stargazers_count": 1, "forks_count": 0})", "application/json");
  });
  server_.server().Get("/repos/acme/nebula/releases", [&, this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    res.set_header("Link", "<" + server_.base_url() + "/repositories/4242/releases?per_page=10&page=2>; rel=\"next\", <" +
                               server_.base_url() + "/repositories/4242/releases?per_page=10&page=3>; rel=\"last\"");
    res.set_content(page(1), "application/json");
  });
  server_.server().Get("/repositories/4242/releases", [&, this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const int n = std::stoi(req.get_param_value("page"));
    if (n < 3)
      res.set_header("Link", "<" + server_.base_url() + "/repositories/4242/releases?per_page=10&page=" +
                                 std::to_string(n + 1) + ">; rel=\"next\"");
    res.set_content(page(n), "application/json");
  });
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options());
  auto out = CollectGitHub(client, GitHubCollectorConfig{"", {"acme/nebula"}}, "github/run6", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->failed.empty());
  EXPECT_EQ(paths, (std::vector<std::string>{"/repos/acme/nebula/releases", "/repositories/4242/releases?page=2",
                                             "/repositories/4242/releases?page=3"}));
  EXPECT_EQ(accepts, std::vector<std::string>(3, "application/vnd.github+json"));
  EXPECT_EQ(versions, std::vector<std::string>(3, "2022-11-28"));
  const auto& releases = out->rows["gh_releases"];
  ASSERT_EQ(releases.size(), 30u);
  EXPECT_EQ(releases[29]["tag"], "v309");
}

TEST_F(CollectorsTest, DockerHubPageThatFailsKeepsThePagesBeforeIt) {
  server_.server().Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.has_param("page")) {
      res.status = 404;
      res.set_content(R"({"message":"page not found"})", "application/json");
      return;
    }
    res.set_content(SampleResponse("dockerhub/repositories_page1.json", server_.base_url()), "application/json");
  });
  ASSERT_TRUE(server_.Start());
  HttpClient client(Options());
  auto out = CollectDockerHub(client, DockerHubCollectorConfig{"vesoft", 2}, "dockerhub/run2", collected_at_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->parts_ok, 1);
  EXPECT_EQ(out->rows["dockerhub_repo_snapshots"].size(), 2u);
  ASSERT_EQ(out->failed.size(), 1u);
  EXPECT_EQ(out->failed[0].part, "page 2");
  ASSERT_TRUE(out->failed[0].response.has_value());
  EXPECT_EQ(out->failed[0].response->status, 404);
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
                          {"status_description", "active"}, {"is_private", false}, {"storage_size", 2147483648LL},
                          {"date_registered", "2019-06-01 00:00:00"}, {"collected_at", "2024-09-02 03:00:00"},
                          {"run_id", "dockerhub/run1"}}));
  EXPECT_EQ(rows[2]["repo"], "nebula-metad");
  EXPECT_EQ(rows[2]["status_description"], "inactive");
  EXPECT_EQ(rows[2]["is_private"], true);
  EXPECT_TRUE(rows[2]["storage_size"].is_null());  // not computed yet by Docker Hub
  EXPECT_EQ(out->responses.size(), 2u);
}

}  // namespace
}  // namespace sluice
