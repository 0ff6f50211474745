// One conformance list, run on every warehouse engine: DuckDB embedded, ClickHouse on one server, and a
// ClickHouse cluster of two replicas with a ZooKeeper (real processes started on loopback for each test). The same
// configs (but for the warehouse line), the same commands and the same SQL, which is written to mean the same on both
// engines; each test asserts what a user would check: every event loaded exactly once (under kill -9 too), dead letters
// counted, late events folded into the right hour, schema evolution, dashboard charts equal to `sluice query`, and the
// query API refusing writes, files and several statements.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "collect/sample_responses.h"
#include "core/http_test_server.h"
#include "harness.h"
#include "warehouse/clickhouse/clickhouse_test_cluster.h"
#include "warehouse/sql_dialect.h"

namespace sluice::e2e {
namespace {

constexpr const char* kStreamSchema =
    "{ ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }";

class ConformanceTest : public ScratchDir, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    ScratchDir::SetUp();
    if (engine() != "duckdb") {
      auto cluster =
          ClickHouseTestCluster::Start(engine() == "clickhouse" ? ClickHouseTestCluster::Layout::kSingle
                                                                : ClickHouseTestCluster::Layout::kTwoReplicas);
      ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
      clickhouse_ = std::move(*cluster);
      ::setenv("SLUICE_E2E_CH_READER", "reader", 1);
    }
  }
  void TearDown() override {
    for (pid_t pid : pids_) {
      ::kill(pid, SIGTERM);
      WaitFor(pid);
    }
    clickhouse_.reset();
    ScratchDir::TearDown();
  }

  // duckdb, clickhouse (one server), or clickhouse_replicas (a cluster of 2 replicas and a ZooKeeper).
  const std::string& engine() const { return GetParam(); }
  const SqlDialect& dialect() const { return DialectFor(engine() == "duckdb" ? "duckdb" : "clickhouse"); }

  // The config's warehouse line for this engine.
  std::string WarehouseYaml() const {
    if (engine() == "duckdb") return "warehouse: { path: wh.duckdb }\n";
    return "warehouse: { kind: clickhouse, url: \"" + clickhouse_->http_url(0) + "\", database: conformance, " +
           (clickhouse_->cluster_name().empty() ? "" : "cluster: " + clickhouse_->cluster_name() + ", ") +
           "reader_user_env: SLUICE_E2E_CH_READER }\n";
  }
  // Writes sluice.yaml: the warehouse, landing, and `rest` (streams, server, rollups...).
  std::string Config(const std::string& rest) {
    return Write("sluice.yaml", WarehouseYaml() + "landing: { path: landing }\n" + rest);
  }

  // All rows of `sql` as CSV lines (header dropped), through `sluice query` (on DuckDB through the running
  // sluice when there is one).
  std::vector<std::string> Rows(const std::string& config, const std::string& sql) {
    CommandResult r = RunSluice({"query", "-c", config, "--format", "csv", sql});
    EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.output;
    std::vector<std::string> lines;
    std::stringstream in(r.output);
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (header) {
        header = false;
        continue;
      }
      if (!line.empty()) lines.push_back(line);
    }
    return lines;
  }
  std::string Scalar(const std::string& config, const std::string& sql) { return QueryScalar(config, sql); }

  pid_t Run(const std::string& config, int port) {
    pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
    pids_.push_back(pid);
    EXPECT_TRUE(WaitHealthy(port, 30)) << "sluice run did not come up";
    return pid;
  }
  void StopRun(pid_t pid) {
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitFor(pid), 0);
    pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
  }

  // Generates `parts` files of `events` tracking events each under events/.
  void Generate(int parts, int events) {
    for (int part = 0; part < parts; ++part) {
      CommandResult g = RunSluice({"gen", "--events", std::to_string(events), "--seed", std::to_string(part + 1),
                                   "--out", Path("events/part" + std::to_string(part) + ".ndjson")});
      ASSERT_EQ(g.exit_code, 0) << g.output;
    }
  }

  // Starts librdkafka's mock cluster with topic `tracking` of 16 partitions; returns its bootstrap servers.
  std::string StartKafka() {
    pid_t pid = StartProgram(SLUICE_KAFKA_MOCK, {"--brokers", "3", "--topic", "tracking:16"}, Path("kafka.log"));
    pids_.push_back(pid);
    for (int i = 0; i < 100; ++i) {
      std::ifstream log(Path("kafka.log"));
      std::string line;
      while (std::getline(log, line))
        if (line.rfind("bootstrap.servers=", 0) == 0) return line.substr(18);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }
  // Produces every line of `file` to `tracking`, keyed by line number so the partitions fill evenly.
  void Produce(const std::string& bootstrap, const std::string& file) {
    std::string produce =
        "awk '{print NR \"\\t\" $0}' " + file + " | kcat -P -b " + bootstrap + " -t tracking -K '\\t'";
    ASSERT_EQ(std::system(produce.c_str()), 0) << produce;
  }

  // Runs `sluice ingest --once` killed at random moments until it was killed `kills` times, then to the end.
  void IngestUnderKillNine(const std::string& config, int min_ms, int max_ms) {
    std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
    int kills = 0;
    for (int attempt = 0; attempt < 40 && kills < 6; ++attempt) {
      pid_t pid = StartSluice({"ingest", "-c", config, "--once", "--quiet"}, Path("ingest.log"));
      std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(min_ms, max_ms)(rng)));
      if (::kill(pid, SIGKILL) == 0 && WaitFor(pid) == 128 + SIGKILL)
        ++kills;
      else
        WaitFor(pid);
    }
    EXPECT_GE(kills, 5) << "the process finished before it could be killed often enough";
    CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  // Every (source, partition, offset) of raw_tracking exactly once: `expected` rows, all distinct.
  void ExpectExactlyOnce(const std::string& config, int expected) {
    EXPECT_EQ(Scalar(config, "SELECT count(*) FROM raw_tracking"), std::to_string(expected));
    EXPECT_EQ(Scalar(config, "SELECT count(*) FROM (SELECT DISTINCT _source, _partition, _offset FROM raw_tracking_origin)"),
              std::to_string(expected));
  }

  std::unique_ptr<ClickHouseTestCluster> clickhouse_;
  std::vector<pid_t> pids_;
};

TEST_P(ConformanceTest, FileIngestLoadsEveryRecordOnceAndDeadLettersTheBadOnes) {
  Generate(1, 20000);
  std::ofstream(Path("events/bad.ndjson"))
      << "not json\n{\"ts\":\"2026-11-01T10:00:00Z\",\"ad_id\":\"x\"}\n{\"ad_id\":1}\n";
  std::string config = Config(std::string("streams:\n  tracking:\n    event_time: ts\n    schema: ") + kStreamSchema +
                              "\n    sources:\n      - { kind: file, path: events }\n"
                              "    batch: { max_records: 4000 }\n");
  for (int run = 0; run < 2; ++run) {  // the second run finds nothing new
    CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    ExpectExactlyOnce(config, 20000);
    EXPECT_EQ(Scalar(config, "SELECT count(*) FROM _sluice_dead_letters"), "3");
  }
}

TEST_P(ConformanceTest, HttpIngestAnswersAfterCommitWithItsCounts) {
  int port = FreePort();
  std::string config = Config("server: { listen: 127.0.0.1:" + std::to_string(port) +
                              " }\nstreams:\n  ev:\n    event_time: ts\n    schema: { ts: timestamp, n: int64 }\n"
                              "    sources: [ { kind: http } ]\n    batch: { max_wait: 100ms }\n");
  pid_t pid = Run(config, port);
  auto [code, body] =
      HttpPost(port, "/ingest/ev",
               "{\"ts\":\"2026-11-01T10:00:00Z\",\"n\":1}\n{\"ts\":\"2026-11-01T10:00:01Z\",\"n\":2}\n"
               "{\"ts\":\"2026-11-01T11:00:00Z\",\"n\":3}\n{\"ts\":\"2026-11-01T11:00:00Z\",\"n\":\"x\"}\n");
  EXPECT_EQ(code, 200) << body;
  EXPECT_NE(body.find("\"loaded\":3,\"dead_lettered\":1"), std::string::npos) << body;
  // Answered after commit: queryable at once.
  EXPECT_EQ(Scalar(config, "SELECT sum(n) FROM raw_ev"), "6");
  EXPECT_EQ(Scalar(config, "SELECT count(*) FROM _sluice_dead_letters"), "1");
  StopRun(pid);
}

TEST_P(ConformanceTest, KafkaIngestLoadsEveryMessageOnce) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) GTEST_SKIP() << "kcat is not installed";
  std::string bootstrap = StartKafka();
  ASSERT_FALSE(bootstrap.empty());
  Generate(1, 20000);
  Produce(bootstrap, Path("events/part0.ndjson"));
  std::string config =
      Config(std::string("streams:\n  tracking:\n    event_time: ts\n    schema: ") + kStreamSchema +
             "\n    sources:\n      - { kind: kafka, brokers: \"" + bootstrap +
             "\", topic: tracking, group: conformance }\n    batch: { max_records: 5000, max_wait: 500ms }\n");
  CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectExactlyOnce(config, 20000);
  EXPECT_EQ(Scalar(config, "SELECT count(*) FROM (SELECT DISTINCT _partition FROM raw_tracking_origin)"), "16");
}

TEST_P(ConformanceTest, KillNineWhileIngestingFilesLosesAndDuplicatesNothing) {
  Generate(3, 100000);
  std::string config = Config(std::string("streams:\n  tracking:\n    event_time: ts\n    schema: ") + kStreamSchema +
                              "\n    sources:\n      - { kind: file, path: events }\n"
                              "    batch: { max_records: 4000 }\n");
  IngestUnderKillNine(config, 50, 350);
  ExpectExactlyOnce(config, 300000);
}

TEST_P(ConformanceTest, KillNineWhileConsumingKafkaLosesAndDuplicatesNothing) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) GTEST_SKIP() << "kcat is not installed";
  std::string bootstrap = StartKafka();
  ASSERT_FALSE(bootstrap.empty());
  Generate(1, 100000);
  Produce(bootstrap, Path("events/part0.ndjson"));
  std::string config =
      Config(std::string("streams:\n  tracking:\n    event_time: ts\n    schema: ") + kStreamSchema +
             "\n    sources:\n      - { kind: kafka, brokers: \"" + bootstrap +
             "\", topic: tracking, group: crash }\n    batch: { max_records: 5000, max_wait: 500ms }\n");
  IngestUnderKillNine(config, 300, 1500);
  ExpectExactlyOnce(config, 100000);
}

TEST_P(ConformanceTest, LateEventsAreFoldedIntoTheirHourAndTheRollupEqualsAGroupByOverRaw) {
  auto event = [](const std::string& ts, int ad, const std::string& type) {
    return "{\"ts\":\"" + ts + "\",\"ad_id\":" + std::to_string(ad) + ",\"event\":\"" + type + "\"}\n";
  };
  std::string first, late;
  for (int i = 0; i < 300; ++i) {
    first += event("2026-11-01T1" + std::to_string(i % 3) + ":" + std::to_string(10 + i % 50) + ":00Z", i % 4,
                   i % 5 ? "start" : "click");
  }
  for (int i = 0; i < 40; ++i) late += event("2026-11-01T10:0" + std::to_string(i % 10) + ":00Z", i % 4, "click");
  std::string config = Config(
      "streams:\n  tracking:\n    event_time: ts\n    allowed_lateness: 1h\n"
      "    schema: { ts: timestamp, ad_id: int64, event: string }\n    sources:\n      - { kind: file, path: in }\n"
      "rollups:\n  tracking_hourly:\n    stream: tracking\n    grain: hour\n    dimensions: [ad_id]\n"
      "    pivot: { column: event, values: [start, click] }\n    measures: { events: count }\n");
  std::filesystem::create_directories(Path("in"));
  std::ofstream(Path("in/a.ndjson")) << first;
  ASSERT_EQ(RunSluice({"ingest", "-c", config, "--once", "--quiet"}).exit_code, 0);
  const std::string bucket = dialect().TimeBucket("hour", "ts");
  const std::string oracle = "SELECT " + bucket +
                             " AS h, ad_id, count(*) AS events, sum(CASE WHEN event = 'start' "
                             "THEN 1 ELSE 0 END) AS starts, sum(CASE WHEN event = 'click' THEN 1 ELSE 0 END) AS clicks "
                             "FROM raw_tracking GROUP BY " +
                             bucket + ", ad_id ORDER BY h, ad_id";
  const std::string rollup =
      "SELECT hour AS h, ad_id, events, start AS starts, click AS clicks FROM tracking_hourly "
      "ORDER BY h, ad_id";
  std::vector<std::string> before = Rows(config, rollup);
  EXPECT_EQ(before.size(), 12u);  // 3 hours x 4 ads
  EXPECT_EQ(before, Rows(config, oracle));
  // Hours later, events for 10:00 arrive: the 10:00 buckets change, the others do not.
  std::ofstream(Path("in/b.ndjson")) << late;
  ASSERT_EQ(RunSluice({"ingest", "-c", config, "--once", "--quiet"}).exit_code, 0);
  std::vector<std::string> after = Rows(config, rollup);
  EXPECT_EQ(after, Rows(config, oracle));
  EXPECT_EQ(Scalar(config, "SELECT sum(clicks) FROM (" + rollup + ") r"),
            std::to_string(std::stoi(Scalar(config, "SELECT count(*) FROM raw_tracking WHERE event = 'click'"))));
  EXPECT_EQ(Scalar(config, "SELECT sum(events) FROM tracking_hourly"), "340");
  // Running the transforms again changes nothing.
  ASSERT_EQ(RunSluice({"transform", "-c", config}).exit_code, 0);
  EXPECT_EQ(Rows(config, rollup), after);
}

TEST_P(ConformanceTest, AFieldAddedToTheSchemaBecomesAColumnAndOldRowsReadNull) {
  std::filesystem::create_directories(Path("in"));
  std::ofstream(Path("in/a.ndjson")) << "{\"ts\":\"2026-11-01T10:00:00Z\",\"n\":1,\"tag\":\"x\"}\n";
  std::string stream =
      "streams:\n  ev:\n    event_time: ts\n    schema: { ts: timestamp, n: int64%s }\n"
      "    sources: [ { kind: file, path: in } ]\n";
  auto with = [&](const std::string& extra) {
    std::string s = stream;
    s.replace(s.find("%s"), 2, extra);
    return Config(s);
  };
  std::string config = with("");
  ASSERT_EQ(RunSluice({"ingest", "-c", config, "--once", "--quiet"}).exit_code, 0);
  config = with(", tag: string");
  std::ofstream(Path("in/b.ndjson")) << "{\"ts\":\"2026-11-01T11:00:00Z\",\"n\":2,\"tag\":\"y\"}\n";
  CommandResult evolved = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(evolved.exit_code, 0) << evolved.output;
  EXPECT_EQ(Rows(config, "SELECT n, tag FROM raw_ev ORDER BY n"), (std::vector<std::string>{"1,", "2,y"}));
  // The first row's tag was not lost: it is in _extra, kept since before the column existed.
  EXPECT_NE(Scalar(config, "SELECT _extra FROM raw_ev WHERE n = 1").find("\"tag\""), std::string::npos);
}

TEST_P(ConformanceTest, DashboardChartsShowWhatSluiceQueryReturnsAndTheQueryApiRefusesWrites) {
  int port = FreePort();
  std::filesystem::create_directories(Path("in"));
  std::string events;
  for (int i = 0; i < 50; ++i) events += "{\"ts\":\"2026-11-01T10:00:00Z\",\"n\":" + std::to_string(i % 5) + "}\n";
  std::ofstream(Path("in/a.ndjson")) << events;
  Write("dashboards/d.yaml",
        "title: D\ncharts:\n  - { title: per n, kind: bar, sql: \"SELECT n, count(*) AS c FROM "
        "raw_ev GROUP BY n ORDER BY n\", x: n, y: c }\n"
        "  - { title: per ts, kind: bar, sql: \"SELECT ts, count(*) AS c FROM raw_ev GROUP BY ts\", x: ts, y: c, "
        "time: ts }\n"
        "  - { title: per day, kind: bar, sql: \"SELECT CAST(ts AS DATE) AS day, count(*) AS c FROM raw_ev GROUP BY "
        "CAST(ts AS DATE)\", x: day, y: c, time: day }\n"
        "  - { title: top n, kind: bar, sql: \"SELECT ts, n, count(*) AS c FROM raw_ev GROUP BY ts, n\", x: ts, "
        "split: n, y: c, top: 2, time: ts }\n");
  std::string config = Config("server: { listen: 127.0.0.1:" + std::to_string(port) +
                              " }\ndashboards: dashboards\nstreams:\n  ev:\n    event_time: ts\n"
                              "    schema: { ts: timestamp, n: int64 }\n    sources: [ { kind: file, path: in } ]\n");
  ASSERT_EQ(RunSluice({"ingest", "-c", config, "--once", "--quiet"}).exit_code, 0);
  pid_t pid = Run(config, port);
  auto chart = HttpGet(port, "/api/dashboards/d/charts/0");
  ASSERT_EQ(chart.first, 200) << chart.second;
  EXPECT_NE(chart.second.find("\"rows\":[\n[0,10],\n[1,10],\n[2,10],\n[3,10],\n[4,10]]"), std::string::npos)
      << chart.second;
  EXPECT_EQ(Rows(config, "SELECT n, count(*) AS c FROM raw_ev GROUP BY n ORDER BY n"),
            (std::vector<std::string>{"0,10", "1,10", "2,10", "3,10", "4,10"}));
  // A time range is bound as parameters on both engines, against a timestamp and a date column: [from, to).
  for (const auto& [query, rows] : std::vector<std::pair<std::string, std::string>>{
           {"1?from=2026-11-01T10:00:00Z&to=2026-11-01T10:00:01Z", ",50]]"},
           {"1?from=2026-11-01T10:00:01Z", "\"rows\":[]"},
           {"1?to=2026-11-01T10:00:00Z", "\"rows\":[]"},
           {"2?from=2026-11-01&to=2026-11-02", ",50]]"},
           {"2?from=2026-11-01T00:00:01Z", "\"rows\":[]"},
           {"2?range=all", ",50]]"},
           // split + top: n = 0 and 1 (ties go to the smaller value), the three others summed.
           {"3?from=2026-11-01",
            "\"0\",10],\n[\"2026-11-01 10:00:00\",\"1\",10],\n[\"2026-11-01 10:00:00\",\"other\",30]]"}}) {
    auto ranged = HttpGet(port, "/api/dashboards/d/charts/" + query);
    EXPECT_EQ(ranged.first, 200) << query << ": " << ranged.second;
    EXPECT_NE(ranged.second.find(rows), std::string::npos) << query << ": " << ranged.second;
  }
  const std::string file_read = engine() == "duckdb"
                                    ? "SELECT * FROM read_text('" + config + "')"
                                    : "SELECT * FROM file('" + config + "', 'LineAsString', 'l String')";
  for (const std::string sql :
       {std::string("INSERT INTO raw_ev (n) VALUES (99)"), std::string("DROP TABLE raw_ev"),
        std::string("SELECT 1; DROP TABLE raw_ev"), std::string("SET max_threads = 1"), file_read}) {
    auto r = HttpGet(port, "/api/query?sql=" + httplib::detail::encode_query_param(sql));
    EXPECT_EQ(r.first, 400) << sql << ": " << r.second;
    EXPECT_EQ(r.second.find("warehouse:"), std::string::npos) << "the config leaked: " << r.second;
    EXPECT_EQ(Scalar(config, "SELECT count(*) FROM raw_ev"), "50") << sql;
  }
  StopRun(pid);
}

TEST_P(ConformanceTest, CollectorsLoadTheirTablesAndReRunningChangesNothing) {
  TestHttpServer api;
  auto& s = api.server();
  auto serve = [&](const std::string& path, const std::string& file) {
    s.Get(path, [&api, file](const httplib::Request&, httplib::Response& res) {
      res.set_content(SampleResponse(file, api.base_url()), "application/json");
    });
  };
  serve("/orgs/acme/repos", "github/orgs_acme_repos.json");
  serve("/repos/acme/nebula", "github/repos_acme_nebula.json");
  serve("/repos/acme/nebula-console", "github/repos_acme_nebula-console.json");
  serve("/repos/acme/nebula/releases", "github/releases_acme_nebula.json");
  serve("/repos/acme/nebula-console/releases", "github/releases_empty.json");
  s.Get("/v2/namespaces/vesoft/repositories", [&api](const httplib::Request& req, httplib::Response& res) {
    std::string page = req.has_param("page") ? req.get_param_value("page") : "1";
    res.set_content(SampleResponse("dockerhub/repositories_page" + page + ".json", api.base_url()), "application/json");
  });
  s.Get("/api/downloads", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        R"({"data":[{"pkg":"sluice","n":40,"day":"2024-09-01"},{"pkg":"sluice-cli","n":12,"day":"2024-09-01"}]})",
        "application/json");
  });
  ASSERT_TRUE(api.Start());
  const std::string base = api.base_url();
  std::string config =
      Config("streams: {}\ncollectors:\n  github: { kind: github, org: acme, base_url: " + base +
             " }\n  dockerhub: { kind: dockerhub, namespace: vesoft, page_size: 2, base_url: " + base +
             " }\n  downloads:\n    kind: http_json\n    url: \"" + base +
             "/api/downloads\"\n"
             "    rows: $.data[*]\n    fields: { pkg: string, n: int64, day: date }\n    key: [pkg, day]\n");
  // Tables kept by natural key are read as of their newest version: ClickHouse's ReplacingMergeTree needs
  // FINAL for that until it merges.
  const std::string final = engine() == "duckdb" ? "" : " FINAL";
  auto snapshot = [&] {
    return std::vector<std::string>{
        Scalar(config, "SELECT count(*) FROM gh_repo_snapshots" + final),
        Scalar(config, "SELECT sum(stars) FROM gh_repo_snapshots" + final),
        Scalar(config, "SELECT count(*) FROM gh_releases" + final),
        Scalar(config, "SELECT count(*) FROM gh_release_downloads_daily"),
        Scalar(config, "SELECT sum(download_count) FROM gh_release_downloads_daily"),
        Scalar(config, "SELECT count(*) FROM dockerhub_repo_snapshots" + final),
        Scalar(config, "SELECT sum(pull_count) FROM dockerhub_repo_snapshots" + final),
        Scalar(config, "SELECT count(*) FROM dockerhub_pulls_daily"),
        Scalar(config, "SELECT sum(n) FROM downloads" + final),
    };
  };
  for (const char* name : {"github", "dockerhub", "downloads"}) {
    CommandResult r = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
  }
  const std::vector<std::string> first = snapshot();
  EXPECT_EQ(first[0], "2");
  EXPECT_EQ(first[1], "1280");
  EXPECT_EQ(first[5], "3");
  EXPECT_EQ(first[6], "13300000");
  EXPECT_EQ(first[8], "52");
  // The fuller fields load on every engine: a list of strings, a nested asset id, Docker Hub's status.
  EXPECT_EQ(Scalar(config, "SELECT license FROM gh_repo_snapshots" + final + " WHERE repo = 'acme/nebula'"), "Apache-2.0");
  const std::string has_topic = engine() == "duckdb" ? "list_contains(topics, 'graph-database')"
                                                     : "has(topics, 'graph-database')";
  EXPECT_EQ(Scalar(config, "SELECT count(*) FROM gh_repo_snapshots" + final + " WHERE " + has_topic), "1");
  EXPECT_EQ(Scalar(config, "SELECT sum(download_count) FROM gh_release_downloads_daily WHERE asset_id = 9002"), "2100");
  EXPECT_EQ(Scalar(config, "SELECT count(*) FROM dockerhub_repo_snapshots" + final + " WHERE status_description = 'inactive'"),
            "1");
  for (const char* name : {"github", "dockerhub", "downloads"}) {
    CommandResult r = RunSluice({"collect", "-c", config, name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.output;
  }
  EXPECT_EQ(snapshot(), first);
  EXPECT_EQ(Scalar(config, "SELECT count(*) FROM _sluice_runs" + final + " WHERE status = 'succeeded'"), "6");
}

INSTANTIATE_TEST_SUITE_P(Engines, ConformanceTest, ::testing::Values("duckdb", "clickhouse", "clickhouse_replicas"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sluice::e2e
