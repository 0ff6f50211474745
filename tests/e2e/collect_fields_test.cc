// The collectors' fuller fields end to end, and a release asset re-uploaded between two daily runs. Yesterday's
// run goes through the same code as `sluice collect` in process, with the clock at yesterday 03:00 UTC (the
// binary has no clock flag); today's runs through the `sluice collect` binary. The tables and the daily-delta
// view are read back with `sluice query`, as a user would.
#include <atomic>

#include "cli/cli.h"
#include "collect/sample_responses.h"
#include "core/http_test_server.h"
#include "harness.h"
#include "landing/object_store.h"

namespace sluice::e2e {
namespace {

class CollectFieldsE2eTest : public ScratchDir {
 protected:
  void Serve() {
    auto& s = server_.server();
    auto sample = [&](const std::string& path, const std::string& file) {
      s.Get(path, [this, file](const httplib::Request&, httplib::Response& res) {
        res.set_content(SampleResponse(file, server_.base_url()), "application/json");
      });
    };
    sample("/repos/acme/nebula", "github/repos_acme_nebula.json");
    sample("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
    sample("/repos/acme/nebula-console/releases", "github/releases_empty.json");
    // Between the two days the .deb asset of v3.8.0 is deleted and uploaded again (a new id, its count restarted).
    s.Get("/repos/acme/nebula/releases", [this](const httplib::Request&, httplib::Response& res) {
      const char* file =
          reuploaded_ ? "github/releases_acme_nebula_reuploaded.json" : "github/releases_acme_nebula.json";
      res.set_content(SampleResponse(file, server_.base_url()), "application/json");
    });
    s.Get("/v2/namespaces/vesoft/repositories", [this](const httplib::Request& req, httplib::Response& res) {
      std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
      res.set_content(SampleResponse("dockerhub/repositories_page" + page + ".json", server_.base_url()),
                      "application/json");
    });
    ASSERT_TRUE(server_.Start());
  }
  std::string Config() {
    const std::string base = server_.base_url();
    return Write("sluice.yaml",
                 "warehouse: { kind: duckdb, path: wh.duckdb }\nlanding: { path: landing }\nstreams: {}\n"
                 "collectors:\n"
                 "  github: { kind: github, repos: [acme/nebula, acme/nebula-console], token_env: "
                 "SLUICE_E2E_UNSET_TOKEN, base_url: " +
                     base +
                     " }\n"
                     "  dockerhub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " +
                     base + " }\n");
  }
  // Runs every collector of `config_path` in process, as `sluice collect` does, with the clock at `at`.
  void CollectInProcess(const std::string& config_path, TimePoint at) {
    auto config = LoadConfig(config_path);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    auto collectors = ReadCollectors(config->collectors, config->file);
    ASSERT_TRUE(collectors.ok()) << collectors.status().ToString();
    auto warehouse = OpenWarehouse(*config);  // closed at the end of this scope, before the binary opens it
    ASSERT_TRUE(warehouse.ok()) << warehouse.status().ToString();
    FakeClock clock(at);
    for (const CollectorConfig& c : *collectors)
      EXPECT_EQ(cli::RunCollectorNow(c, OpenObjectStore(*config), **warehouse, &clock, false), 0) << c.name;
  }

  TestHttpServer server_;
  std::atomic<bool> reuploaded_{false};
};

TEST_F(CollectFieldsE2eTest, NewFieldsLoadAndAReUploadedAssetCountsItsNewDownloadsNeverANegativeDay) {
  Serve();
  const std::string config = Config();
  const int64_t today =
      std::chrono::duration_cast<std::chrono::hours>(Clock::Real()->Now().time_since_epoch()).count() / 24;
  CollectInProcess(config, TimePoint(std::chrono::hours(24 * (today - 1) + 3)));
  reuploaded_ = true;
  for (const char* name : {"github", "dockerhub"}) {
    CommandResult r = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
  }
  EXPECT_EQ(
      QueryScalar(config, "SELECT count(DISTINCT day) || ' days, ' || count(*) || ' rows' FROM gh_repo_snapshots"),
      "2 days, 4 rows");

  // The repository: archived, fork, language, topics, license (the SPDX id, or GitHub's name without one).
  const std::string latest = " WHERE day = (SELECT max(day) FROM gh_repo_snapshots)";
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(concat_ws(';', repo, archived, fork, language, license, "
                        "array_to_string(topics, ' ')), ' | ' ORDER BY repo) FROM gh_repo_snapshots" +
                            latest),
            "acme/nebula;false;false;C++;Apache-2.0;database distributed-database graph-database | "
            "acme/nebula-console;true;true;Go;Other");
  // Watchers are subscribers_count; GitHub's watchers_count (the star count) is not stored as watchers.
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(repo || '=' || subscribers, ' ' ORDER BY repo) FROM "
                        "gh_repo_snapshots" +
                            latest),
            "acme/nebula=95 acme/nebula-console=7");
  EXPECT_EQ(QueryScalar(config,
                        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'gh_repo_snapshots' AND "
                        "column_name = 'watchers'"),
            "0");

  // Releases: draft and created_at; assets: id, label, digest.
  EXPECT_EQ(QueryScalar(config,
                        "SELECT concat_ws(';', draft, created_at, coalesce(published_at::VARCHAR, 'unpublished')) "
                        "FROM gh_releases WHERE tag = 'v3.9.0'"),
            "true;2024-09-02 16:00:00;unpublished");
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(concat_ws(';', day = (SELECT max(day) FROM gh_releases), a.id, "
                        "a.label, coalesce(a.digest, 'no digest')), ' | ' ORDER BY day, a.id) FROM (SELECT day, "
                        "unnest(assets) AS a FROM gh_releases WHERE tag = 'v3.8.0') WHERE a.name LIKE '%.deb'"),
            "false;9002;;no digest | "
            "true;9012;DEB (Ubuntu 20.04, amd64), "
            "rebuilt;sha256:0a9b8c7d6e5f40312a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091");

  // Today's downloads per asset: the .deb's new asset counts its 40 (not 40 - 2100), the .rpm its 20 more.
  const std::string today_sql = " FROM gh_release_downloads_daily WHERE day = (SELECT max(day) FROM gh_releases)";
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(asset_id || '=' || downloads, ' ' ORDER BY asset_id)" + today_sql),
            "9001=20 9012=40");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(downloads)" + today_sql), "60");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM gh_release_downloads_daily WHERE downloads < 0"), "0");

  // Docker Hub: status_description, is_private, storage_size, date_registered.
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(concat_ws(';', repo, status_description, is_private, "
                        "coalesce(storage_size::VARCHAR, 'unknown'), date_registered), ' | ' ORDER BY repo) FROM "
                        "dockerhub_repo_snapshots WHERE day = (SELECT max(day) FROM dockerhub_repo_snapshots)"),
            "nebula-graphd;active;false;2147483648;2019-06-01 00:00:00 | "
            "nebula-metad;inactive;true;unknown;2019-06-01 00:00:00 | "
            "nebula-storaged;active;false;1073741824;2019-06-02 08:30:00");
}

}  // namespace
}  // namespace sluice::e2e
