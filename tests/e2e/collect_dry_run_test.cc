// `sluice collect NAME --dry-run` end to end: against the GitHub stargazers recipe's recorded API (three
// pages by Link header, rate-limit headers, a token in play) it prints the rows it would load with their
// columns and types, the members the rows hold, the pages it followed and the rate-limit state, never the
// token; and it writes nothing: no file appears in a fresh folder, and after a real run the warehouse and
// landing files are byte-identical before and after a dry run. A dockerhub collector previews the same way.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/http_test_server.h"
#include "harness.h"
#include "recorded_api.h"

namespace sluice::e2e {
namespace {

namespace fs = std::filesystem;

// Every file under `dir` with its bytes.
std::map<std::string, std::string> Files(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[fs::relative(e.path(), dir).string()] = ss.str();
  }
  return out;
}

class CollectDryRunTest : public ScratchDir {};

TEST_F(CollectDryRunTest, PrintsRowsColumnsPagesAndRateLimitAndWritesNothing) {
  RecordedApi api(RecordingPath("github_stargazers"));
  ASSERT_TRUE(api.ok()) << api.error();
  YAML::Node collector = YAML::LoadFile(RecipePath("github_stargazers"))["collectors"]["github_stargazers"];
  collector["base_url"] = api.base_url();
  collector["token_env"] = "SLUICE_E2E_DRY_RUN_TOKEN";
  YAML::Node root;
  root["warehouse"]["kind"] = "duckdb";
  root["warehouse"]["path"] = Path("data/wh.duckdb");
  root["landing"]["path"] = Path("data/landing");
  root["streams"] = YAML::Node(YAML::NodeType::Map);
  root["collectors"]["github_stargazers"] = collector;
  YAML::Emitter yaml;
  yaml << root;
  const std::string config = Write("sluice.yaml", yaml.c_str());
  fs::create_directories(Path("data"));
  ::setenv("SLUICE_E2E_DRY_RUN_TOKEN", "ghp_dry_run_secret_42", 1);

  // A fresh pipeline: the dry run creates no warehouse, landing folder or anything else.
  CommandResult dry = RunSluice({"collect", "-c", config, "github_stargazers", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_TRUE(Files(Path("data")).empty());
  const std::string& out = dry.output;
  EXPECT_NE(out.find("nothing was written"), std::string::npos) << out;
  // The pages followed, from the requested path to the /repositories/<id> ones the Link headers named.
  EXPECT_NE(out.find("pages followed: 3"), std::string::npos) << out;
  EXPECT_NE(out.find("200"), std::string::npos) << out;
  EXPECT_NE(out.find(api.base_url() + "/repos/vesoft-inc/nebula/stargazers?per_page=100"), std::string::npos) << out;
  EXPECT_NE(out.find(api.base_url() + "/repositories/146215335/stargazers?per_page=100&page=3"), std::string::npos)
      << out;
  // The last page's rate-limit headers.
  EXPECT_NE(out.find("rate limit: 57 of 60 remaining, resets 2024-09-02 03:00:00 UTC"), std::string::npos) << out;
  // The table, its key, columns and types, and its first rows as `sluice query` prints them.
  EXPECT_NE(out.find("table github_stargazers: 7 rows would be upserted by key (repo, user_id)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("columns: repo string, user_id int64, login string, starred_at timestamp, collected_at "
                     "timestamp, run_id string"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("repo               user_id  login"), std::string::npos) << out;
  EXPECT_NE(out.find("vesoft-inc/nebula     1001  graph-fan    2019-05-15 08:21:04"), std::string::npos) << out;
  EXPECT_EQ(out.find("late-star"), std::string::npos) << "only the first 5 rows: " << out;
  EXPECT_NE(out.find("... and 2 more"), std::string::npos) << out;
  // What the selected rows hold, so `fields:` can be shaped: starred_at is mapped, user is an object.
  EXPECT_NE(out.find("starred_at  timestamp  yes"), std::string::npos) << out;
  EXPECT_NE(out.find("user        json       yes"), std::string::npos) << out;
  // The token went to the API and nowhere else.
  EXPECT_EQ(api.Authorizations(), std::vector<std::string>(3, "Bearer ghp_dry_run_secret_42"));
  EXPECT_EQ(out.find("ghp_dry_run_secret_42"), std::string::npos) << out;
  EXPECT_EQ(out.find("Authorization"), std::string::npos) << out;

  // After a real run, a dry run leaves every warehouse and landing byte as it was.
  CommandResult real = RunSluice({"collect", "-c", config, "github_stargazers"});
  ASSERT_EQ(real.exit_code, 0) << real.output;
  const std::map<std::string, std::string> before = Files(Path("data"));
  ASSERT_TRUE(before.count("wh.duckdb"));
  ASSERT_GE(before.size(), 2u) << "the real run landed its responses";
  CommandResult again = RunSluice({"collect", "-c", config, "github_stargazers", "--dry-run", "--limit", "7"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("late-star"), std::string::npos) << again.output;
  const std::map<std::string, std::string> after = Files(Path("data"));
  ASSERT_EQ(after.size(), before.size());
  for (const auto& [file, bytes] : before) {
    auto it = after.find(file);
    ASSERT_NE(it, after.end()) << file;
    EXPECT_TRUE(it->second == bytes) << file << " changed";
  }
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_runs"), "1");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM github_stargazers"), "7");
  ::unsetenv("SLUICE_E2E_DRY_RUN_TOKEN");
}

TEST_F(CollectDryRunTest, AWrongRowsPathSaysWhatThePagesHeld) {
  RecordedApi api(RecordingPath("pypi_downloads"));
  ASSERT_TRUE(api.ok()) << api.error();
  YAML::Node collector = YAML::LoadFile(RecipePath("pypi_downloads"))["collectors"]["pypi_downloads"];
  collector["base_url"] = api.base_url();
  collector["rows"] = "$.rows";  // the API calls them data
  YAML::Node root;
  root["warehouse"]["kind"] = "duckdb";
  root["warehouse"]["path"] = Path("wh.duckdb");
  root["streams"] = YAML::Node(YAML::NodeType::Map);
  root["collectors"]["pypi_downloads"] = collector;
  YAML::Emitter yaml;
  yaml << root;
  const std::string config = Write("sluice.yaml", yaml.c_str());
  CommandResult dry = RunSluice({"collect", "-c", config, "pypi_downloads", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("table pypi_downloads: 0 rows would be upserted"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("nothing: no page held an object at $.rows; the first page holds: data (array), "
                            "package (string), type (string)"),
            std::string::npos)
      << dry.output;
  EXPECT_FALSE(std::filesystem::exists(Path("wh.duckdb")));
}

// Any kind previews: a Docker Hub namespace over two pages by `next`, its code-defined table and columns,
// Docker Hub's rate-limit headers, and no warehouse file.
TEST_F(CollectDryRunTest, ADockerHubCollectorPreviewsItsPagesAndTable) {
  TestHttpServer hub;
  hub.server().Get("/v2/namespaces/vesoft/repositories", [&hub](const httplib::Request& req, httplib::Response& res) {
    res.set_header("x-ratelimit-limit", "180");
    res.set_header("x-ratelimit-remaining", req.has_param("page") ? "178" : "179");
    res.set_header("x-ratelimit-reset", "1725249600");
    if (req.has_param("page")) {
      res.set_content(R"({"count":3,"next":null,"results":[{"name":"nebula-metad","namespace":"vesoft",
        "pull_count":3100000,"star_count":9,"last_updated":"2024-09-01T12:00:00Z"}]})",
                      "application/json");
      return;
    }
    res.set_content(R"({"count":3,"next":")" + hub.base_url() +
                        R"(/v2/namespaces/vesoft/repositories?page=2&page_size=2","results":[
        {"name":"nebula-graphd","namespace":"vesoft","pull_count":5000000,"star_count":40,
         "last_updated":"2024-09-01T12:00:00Z"},
        {"name":"nebula-storaged","namespace":"vesoft","pull_count":4200000,"star_count":25,
         "last_updated":"2024-09-01T12:05:00Z"}]})",
                    "application/json");
  });
  ASSERT_TRUE(hub.Start());
  const std::string config =
      Write("sluice.yaml", "warehouse: { kind: duckdb, path: " + Path("wh.duckdb") +
                               " }\nstreams: {}\ncollectors:\n"
                               "  hub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " +
                               hub.base_url() + " }\n");
  CommandResult dry = RunSluice({"collect", "-c", config, "hub", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("collector hub (dockerhub), dry run"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("pages followed: 2"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("rate limit: 178 of 180 remaining, resets 2024-09-02 04:00:00 UTC"), std::string::npos)
      << dry.output;
  EXPECT_NE(dry.output.find("table dockerhub_repo_snapshots: 3 rows would be upserted by key"), std::string::npos)
      << dry.output;
  EXPECT_NE(dry.output.find("pull_count int64"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("nebula-metad"), std::string::npos) << dry.output;
  EXPECT_EQ(dry.output.find("rows:"), std::string::npos) << "row members are http_json's: " << dry.output;
  EXPECT_FALSE(std::filesystem::exists(Path("wh.duckdb")));
}

}  // namespace
}  // namespace sluice::e2e
