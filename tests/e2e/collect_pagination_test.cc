// Pagination through the `sluice` binary: GitHub releases over three pages whose Link headers point at
// /repositories/<id>/releases rather than the /repos/<owner>/<name>/releases requested, each page sent with
// GitHub's Accept and API-version headers; Docker Hub repositories over three pages by their `next` URLs.
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/http_test_server.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

using nlohmann::json;

class CollectPaginationTest : public ScratchDir {
 protected:
  std::string Config() {
    return Write("sluice.yaml",
                 "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\n"
                 "streams: {}\ncollectors:\n"
                 "  gh: { kind: github, repos: [acme/nebula], token_env: SLUICE_E2E_UNSET_TOKEN, base_url: " +
                     server_.base_url() +
                     " }\n"
                     "  hub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " +
                     server_.base_url() + " }\n");
  }
  TestHttpServer server_;
  std::mutex mu_;
  std::vector<std::string> requests_;  // "path?page=N Accept|X-GitHub-Api-Version"
};

TEST_F(CollectPaginationTest, GitHubLinksToAnotherPathAndDockerHubNextUrlsAreFollowedToTheEnd) {
  auto releases_page = [](int n) {
    json list = json::array();
    for (int i = 0; i < 10; ++i) {
      const int id = n * 100 + i;
      list.push_back({{"id", id},
                      {"tag_name", "v" + std::to_string(id)},
                      {"name", "r"},
                      {"prerelease", false},
                      {"draft", false},
                      {"published_at", "2024-09-01T00:00:00Z"},
                      {"created_at", "2024-08-31T00:00:00Z"},
                      {"assets", json::array()}});
    }
    return list.dump();
  };
  auto record = [this](const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req.path + (req.has_param("page") ? "?page=" + req.get_param_value("page") : "") + " " +
                        req.get_header_value("Accept") + "|" + req.get_header_value("X-GitHub-Api-Version"));
  };
  auto& s = server_.server();
  s.Get("/repos/acme/nebula", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"full_name":"acme/nebula","stargazers_count":1200,"forks_count":300})", "application/json");
  });
  s.Get("/repos/acme/nebula/releases", [&, this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const std::string base = server_.base_url() + "/repositories/4242/releases?per_page=10&page=";
    res.set_header("Link", "<" + base + "2>; rel=\"next\", <" + base + "3>; rel=\"last\"");
    res.set_content(releases_page(1), "application/json");
  });
  s.Get("/repositories/4242/releases", [&, this](const httplib::Request& req, httplib::Response& res) {
    record(req);
    const int n = std::stoi(req.get_param_value("page"));
    const std::string base = server_.base_url() + "/repositories/4242/releases?per_page=10&page=";
    if (n < 3) res.set_header("Link", "<" + base + std::to_string(n + 1) + ">; rel=\"next\"");
    res.set_content(releases_page(n), "application/json");
  });
  s.Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
    const int n = req.has_param("page") ? std::stoi(req.get_param_value("page")) : 1;
    json results = json::array();
    for (int i = 0; i < (n < 3 ? 2 : 1); ++i) {
      results.push_back({{"name", "image-" + std::to_string(n) + "-" + std::to_string(i)},
                         {"namespace", "vesoft"},
                         {"pull_count", n * 1000 + i},
                         {"star_count", 1},
                         {"last_updated", "2024-09-01T12:00:00Z"}});
    }
    json next = n < 3 ? json(server_.base_url() + "/v2/namespaces/vesoft/repositories?page=" + std::to_string(n + 1) +
                             "&page_size=2")
                      : json();
    res.set_content(json{{"count", 5}, {"next", next}, {"results", results}}.dump(), "application/json");
  });
  ASSERT_TRUE(server_.Start());
  const std::string config = Config();

  CommandResult gh = RunSluice({"collect", "-c", config, "gh"});
  ASSERT_EQ(gh.exit_code, 0) << gh.output;
  const std::string headers = " application/vnd.github+json|2022-11-28";
  EXPECT_EQ(requests_, (std::vector<std::string>{"/repos/acme/nebula/releases" + headers,
                                                 "/repositories/4242/releases?page=2" + headers,
                                                 "/repositories/4242/releases?page=3" + headers}));
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) || '/' || min(tag) || '/' || max(tag) FROM gh_releases"),
            "30/v100/v309");

  CommandResult hub = RunSluice({"collect", "-c", config, "hub"});
  ASSERT_EQ(hub.exit_code, 0) << hub.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) || '/' || sum(pull_count) FROM dockerhub_repo_snapshots"),
            "5/" + std::to_string(1000 + 1001 + 2000 + 2001 + 3000));
  EXPECT_EQ(QueryScalar(config, "SELECT (notes->>'$.pages_fetched')::INT FROM _sluice_runs WHERE collector = 'hub'"),
            "3");
}

}  // namespace
}  // namespace sluice::e2e
