// `landing.kind: s3` end to end with the real binary against a real S3 server (s3rver on loopback, started by
// the suite and stopped by its PID): `sluice ingest --once` into DuckDB lands every batch in the bucket under
// <prefix>/<stream>/dt=DAY/<batch_id>.{ndjson.zst,positions.zst,manifest.json} and the ledger names them
// s3://bucket/key; `sluice backfill` from the bucket rebuilds a fresh DuckDB file with the same rows, dead
// letters and checkpoints; collectors' raw responses land in the bucket, from `sluice collect` and from the
// scheduler under `sluice run`. Nothing is written to a local landing folder.
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "collect/sample_responses.h"
#include "core/http_test_server.h"
#include "harness.h"
#include "landing/s3_client.h"
#include "landing/s3rver_test_server.h"

namespace sluice::e2e {
namespace {

class S3LandingTest : public ScratchDir {
 protected:
  static void SetUpTestSuite() {
    s3rver_ = new testing::S3rverProcess();
    Status st = s3rver_->Start(SLUICE_SOURCE_DIR, {"landing"});
    ASSERT_TRUE(st.ok()) << st.ToString();
    ::setenv("SLUICE_E2E_S3_KEY", "S3RVER", 1);
    ::setenv("SLUICE_E2E_S3_SECRET", "S3RVER", 1);
  }
  static void TearDownTestSuite() {
    delete s3rver_;  // stops it by its PID
    s3rver_ = nullptr;
  }

  void SetUp() override {
    ScratchDir::SetUp();
    prefix_ =
        "e2e-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  std::string LandingYaml() const {
    return "landing: { kind: s3, endpoint: '" + s3rver_->endpoint() + "', bucket: landing, prefix: " + prefix_ +
           ", region: us-east-1, access_key_env: SLUICE_E2E_S3_KEY, secret_key_env: SLUICE_E2E_S3_SECRET }\n";
  }

  // Every key under this test's prefix, without it.
  std::vector<std::string> Keys(const std::string& under = "") const {
    S3Client s3(ClientOptions());
    auto all = s3.ListAll(prefix_ + "/" + under);
    EXPECT_TRUE(all.ok()) << all.status().ToString();
    std::vector<std::string> out;
    if (all.ok())
      for (const auto& o : *all) out.push_back(o.key.substr(prefix_.size() + 1));
    return out;
  }

  std::string Get(const std::string& key) const {
    S3Client s3(ClientOptions());
    auto body = s3.GetObject(prefix_ + "/" + key);
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    return body.ok() ? *body : "";
  }

  static S3ClientOptions ClientOptions() {
    S3ClientOptions o;
    o.endpoint = s3rver_->endpoint();
    o.bucket = "landing";
    o.access_key_env = "SLUICE_E2E_S3_KEY";
    o.secret_key_env = "SLUICE_E2E_S3_SECRET";
    return o;
  }

  // No local landing folder, under the default name or the config's folder.
  void ExpectNoLocalLanding() const {
    EXPECT_FALSE(std::filesystem::exists(Path("landing")));
    EXPECT_FALSE(std::filesystem::exists(Path("data/landing")));
  }

  static inline testing::S3rverProcess* s3rver_ = nullptr;
  std::string prefix_;
};

TEST_F(S3LandingTest, IngestLandsInTheBucketAndBackfillFromItRebuildsTheWarehouse) {
  const std::string config = Write("sluice.yaml", "warehouse: { path: wh.duckdb }\n" + LandingYaml() + R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: file, path: events/*.ndjson }
    batch: { max_records: 3000 }
)");
  std::filesystem::create_directories(Path("events"));
  ASSERT_EQ(RunSluice({"gen", "--events", "20000", "--bad", "25", "--out", Path("events/a.ndjson")}).exit_code, 0);
  CommandResult ingest = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  const std::string rows = QueryScalar(config, "SELECT count(*) FROM raw_tracking");
  const std::string dead = QueryScalar(config, "SELECT count(*) FROM _sluice_dead_letters");
  const std::string checkpoints = QueryScalar(
      config,
      "SELECT string_agg(\"partition\" || '=' || next_offset, ',' ORDER BY \"partition\") FROM _sluice_checkpoints");
  ASSERT_EQ(rows, "20000");
  ASSERT_EQ(dead, "25");
  const int batches = std::stoi(QueryScalar(config, "SELECT count(*) FROM _sluice_batches"));
  ASSERT_GE(batches, 7);  // 20,025 records, 3,000 a batch

  // Three objects per batch under deterministic keys, and the ledger names the data objects.
  const std::vector<std::string> keys = Keys();
  ASSERT_EQ(keys.size(), 3u * batches);
  const std::regex shape(
      R"(tracking/dt=\d{4}-\d{2}-\d{2}/([A-Za-z0-9._-]+)\.(ndjson\.zst|positions\.zst|manifest\.json))");
  std::set<std::string> data_locators;
  for (const auto& k : keys) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(k, m, shape)) << k;
    if (m[2] == "ndjson.zst") data_locators.insert("s3://landing/" + prefix_ + "/" + k);
  }
  const std::string ledger_files =
      QueryScalar(config, "SELECT string_agg(file, '|' ORDER BY file) FROM _sluice_batches");
  std::string expected;
  for (const auto& l : data_locators) expected += (expected.empty() ? "" : "|") + l;
  EXPECT_EQ(ledger_files, expected);
  EXPECT_NE(QueryScalar(config, "SELECT string_agg(batch_id, ',') FROM _sluice_batches"), "");
  ExpectNoLocalLanding();

  // A fresh warehouse from the bucket alone.
  std::filesystem::remove(Path("wh.duckdb"));
  std::filesystem::remove(Path("wh.duckdb.wal"));
  CommandResult backfill = RunSluice({"backfill", "-c", config, "--stream", "tracking"});
  ASSERT_EQ(backfill.exit_code, 0) << backfill.output;
  EXPECT_NE(backfill.output.find(std::to_string(batches) + " batch(es) loaded (20000 rows), 0 skipped"),
            std::string::npos)
      << backfill.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), rows);
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_dead_letters"), dead);
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_batches"), std::to_string(batches));
  EXPECT_EQ(QueryScalar(config,
                        "SELECT string_agg(\"partition\" || '=' || next_offset, ',' ORDER BY \"partition\") "
                        "FROM _sluice_checkpoints"),
            checkpoints);
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(file, '|' ORDER BY file) FROM _sluice_batches"), ledger_files);

  // Landing again is a no-op: a second ingest reads nothing new and the bucket is unchanged.
  ASSERT_EQ(RunSluice({"ingest", "-c", config, "--once", "--quiet"}).exit_code, 0);
  EXPECT_EQ(Keys().size(), keys.size());
  ExpectNoLocalLanding();
}

TEST_F(S3LandingTest, MissingCredentialsFailTheIngestNamingTheVariableNotTheValue) {
  const std::string config = Write("sluice.yaml", "warehouse: { path: wh.duckdb }\n" + LandingYaml() + R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64 }
    sources:
      - { kind: file, path: events/*.ndjson }
)");
  Write("events/a.ndjson", "{\"ts\":\"2026-11-01T00:00:00Z\",\"ad_id\":1}\n");
  ::unsetenv("SLUICE_E2E_S3_SECRET");
  CommandResult ingest = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ::setenv("SLUICE_E2E_S3_SECRET", "S3RVER", 1);
  EXPECT_NE(ingest.exit_code, 0) << ingest.output;
  EXPECT_NE(ingest.output.find("SLUICE_E2E_S3_SECRET"), std::string::npos) << ingest.output;
  EXPECT_EQ(ingest.output.find("S3RVER"), std::string::npos) << ingest.output;
  EXPECT_TRUE(Keys().empty());
}

// The collectors' fake API (the github sample responses, as in collect_test.cc).
class S3CollectTest : public S3LandingTest {
 protected:
  void ServeGithub() {
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
    ASSERT_TRUE(server_.Start());
  }

  // The one landed run of `collector`: its key and its responses.
  void ExpectOneLandedRun(const std::string& collector, const std::string& url_part) {
    const std::vector<std::string> keys = Keys("collect/" + collector + "/");
    ASSERT_EQ(keys.size(), 1u) << "runs landed for " << collector;
    EXPECT_TRUE(
        std::regex_match(keys[0], std::regex("collect/" + collector + R"(/dt=\d{4}-\d{2}-\d{2}/[A-Za-z0-9_-]+\.json)")))
        << keys[0];
    auto landed = nlohmann::json::parse(Get(keys[0]), nullptr, false);
    ASSERT_TRUE(landed.is_array()) << Get(keys[0]);
    bool found = false;
    for (const auto& r : landed) {
      EXPECT_EQ(r.value("status", 0), 200);
      found |= r.value("url", "").find(url_part) != std::string::npos && r.contains("body");
    }
    EXPECT_TRUE(found) << landed.dump();
  }

  TestHttpServer server_;
};

TEST_F(S3CollectTest, CollectLandsTheRawResponsesInTheBucket) {
  ServeGithub();
  const std::string config =
      Write("sluice.yaml", "warehouse: { kind: duckdb, path: wh.duckdb }\n" + LandingYaml() +
                               "streams: {}\ncollectors:\n  github: { kind: github, org: acme, token_env: "
                               "SLUICE_E2E_UNSET_TOKEN, base_url: " +
                               server_.base_url() + " }\n");
  CommandResult r = RunSluice({"collect", "-c", config, "github"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(repo || '=' || stars, ',' ORDER BY repo) FROM gh_repo_snapshots"),
            "acme/nebula=1200,acme/nebula-console=80");
  ExpectOneLandedRun("github", "/orgs/acme/repos");
  ExpectNoLocalLanding();
}

TEST_F(S3CollectTest, ScheduledCollectorsUnderRunLandInTheBucket) {
  ServeGithub();
  const int port = FreePort();
  const std::string config =
      Write("sluice.yaml", "warehouse: { kind: duckdb, path: wh.duckdb }\n" + LandingYaml() +
                               "server: { listen: 127.0.0.1:" + std::to_string(port) +
                               " }\nstreams: {}\ncollectors:\n  github: { kind: github, schedule: \"* * * * *\", org: "
                               "acme, token_env: SLUICE_E2E_UNSET_TOKEN, base_url: " +
                               server_.base_url() + " }\n");
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20));
  // The first fire time is the next minute boundary.
  std::string runs;
  for (int i = 0; i < 150 && runs != "1"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    runs = QueryScalar(config, "SELECT count(*) FROM _sluice_runs WHERE collector = 'github' AND status = 'succeeded'");
  }
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
  ASSERT_EQ(runs, "1") << "the scheduler did not run github within 75 s";
  ExpectOneLandedRun("github", "/orgs/acme/repos");
  ExpectNoLocalLanding();
}

}  // namespace
}  // namespace sluice::e2e
