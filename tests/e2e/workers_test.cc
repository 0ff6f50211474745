// Several workers, one pipeline, on a ClickHouse cluster (2 replicas + ZooKeeper, which also holds the
// workers' leases): three `sluice run --worker` processes share a 6-partition topic on librdkafka's mock
// cluster, one is killed with kill -9 mid-stream and restarted, another is stopped cleanly. At the end every
// event is in raw exactly once, the rollups equal GROUP BY over raw, each transform group was committed by
// one worker at a time (the workers' logs), and no collector slot ran twice (the fake API's log and
// _sluice_runs). A second test spreads HTTP bodies over two workers and kills one: every acknowledged body is
// in raw exactly once.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/http_test_server.h"
#include "harness.h"
#include "warehouse/clickhouse/clickhouse_test_cluster.h"

namespace sluice::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class WorkersTest : public ScratchDir {
 protected:
  void SetUp() override {
    ScratchDir::SetUp();
    auto cluster = ClickHouseTestCluster::Start(ClickHouseTestCluster::Layout::kTwoReplicas);
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    clickhouse_ = std::move(*cluster);
    ::setenv("SLUICE_E2E_CH_READER", "reader", 1);  // the fixture's read-only user
  }
  void TearDown() override {
    for (auto& [name, w] : workers_)
      if (w.pid > 0) {
        ::kill(w.pid, SIGTERM);
        WaitFor(w.pid);
      }
    for (pid_t pid : others_) {
      ::kill(pid, SIGTERM);
      WaitFor(pid);
    }
    clickhouse_.reset();
    ScratchDir::TearDown();
  }

  struct Worker {
    pid_t pid = -1;
    int port = 0;
    int starts = 0;
  };

  // The config shared by every worker: ClickHouse replicas, ZooKeeper coordination (4 s leases), `rest`.
  std::string Config(const std::string& rest) {
    return Write("sluice.yaml",
                 "warehouse: { kind: clickhouse, url: \"" + clickhouse_->http_url(0) +
                     "\", database: workers, cluster: " + clickhouse_->cluster_name() +
                     ", reader_user_env: SLUICE_E2E_CH_READER }\nlanding: { path: landing }\ncoordination: { zookeeper: \"" +
                     clickhouse_->zookeeper_address() + "\", root: /sluice-workers, lease_timeout: 4s }\n" + rest);
  }
  std::string LogOf(const std::string& name) const { return Path("worker-" + name + ".log"); }

  void StartWorker(const std::string& config, const std::string& name) {
    Worker& w = workers_[name];
    if (w.port == 0) w.port = FreePort();
    // Each start appends to the worker's log, so the log holds every incarnation.
    w.pid = StartProgram("/bin/sh",
                         {"-c", "exec \"$0\" \"$@\" >> " + LogOf(name) + " 2>&1", SLUICE_BIN, "run", "-c", config,
                          "--worker", name, "--listen", "127.0.0.1:" + std::to_string(w.port), "--quiet"},
                         "/dev/null");
    ++w.starts;
    ASSERT_TRUE(WaitHealthy(w.port, 60)) << name << " did not come up:\n" << Tail(LogOf(name));
  }
  void Kill9(const std::string& name) {
    Worker& w = workers_[name];
    ASSERT_EQ(::kill(w.pid, SIGKILL), 0);
    EXPECT_EQ(WaitFor(w.pid), 128 + SIGKILL);
    w.pid = -1;
  }
  void StopCleanly(const std::string& name) {
    Worker& w = workers_[name];
    ASSERT_EQ(::kill(w.pid, SIGTERM), 0);
    EXPECT_EQ(WaitFor(w.pid), 0) << Tail(LogOf(name));
    w.pid = -1;
  }

  static std::string Tail(const std::string& path, size_t bytes = 4000) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    return s.size() > bytes ? s.substr(s.size() - bytes) : s;
  }
  std::string Q(const std::string& sql) {
    auto r = clickhouse_->Query(0, sql + " FORMAT TSV", "database=workers");
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::string out = r.ok() ? *r : "";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // Waits until `sql` answers `want` (or the timeout passes); returns the last answer.
  std::string WaitFor(const std::string& sql, const std::string& want, seconds timeout) {
    std::string got;
    for (auto end = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < end;) {
      got = Q(sql);
      if (got == want) break;
      std::this_thread::sleep_for(milliseconds(500));
    }
    return got;
  }
  using ScratchDir::Path;
  static int WaitFor(pid_t pid) { return e2e::WaitFor(pid); }

  // Starts librdkafka's mock cluster with `topic`; returns its bootstrap servers.
  std::string StartKafka(const std::string& topic) {
    pid_t pid = StartProgram(SLUICE_KAFKA_MOCK, {"--brokers", "3", "--topic", topic}, Path("kafka.log"));
    others_.push_back(pid);
    for (int i = 0; i < 100; ++i) {
      std::ifstream log(Path("kafka.log"));
      std::string line;
      while (std::getline(log, line))
        if (line.rfind("bootstrap.servers=", 0) == 0) return line.substr(18);
      std::this_thread::sleep_for(milliseconds(100));
    }
    return "";
  }
  void Produce(const std::string& bootstrap, const std::string& file, int first_key) {
    std::string produce = "awk '{print NR + " + std::to_string(first_key) + " \"\\t\" $0}' " + file +
                          " | kcat -P -b " + bootstrap + " -t tracking -K '\\t'";
    ASSERT_EQ(std::system(produce.c_str()), 0) << produce;
  }

  // Per transform lease, the [start, end] microsecond intervals of the commits in every worker's log, with
  // the worker that made each.
  struct Commit {
    int64_t start, end;
    std::string worker, target;
  };
  std::map<std::string, std::vector<Commit>> TransformCommits() {
    std::map<std::string, std::vector<Commit>> by_lease;
    const std::regex line_re(R"(transform (\S+): committed through batch \d+ under (\S+) \((\d+) to (\d+)\))");
    for (const auto& [name, w] : workers_) {
      std::ifstream in(LogOf(name));
      std::string line;
      std::smatch m;
      while (std::getline(in, line))
        if (std::regex_search(line, m, line_re))
          by_lease[m[2]].push_back({std::stoll(m[3]), std::stoll(m[4]), name, m[1]});
    }
    return by_lease;
  }

  std::unique_ptr<ClickHouseTestCluster> clickhouse_;
  std::map<std::string, Worker> workers_;
  std::vector<pid_t> others_;
};

TEST_F(WorkersTest, ThreeWorkersOneKilledOneStoppedLoadEveryEventOnceAndRunSharedWorkOnce) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) GTEST_SKIP() << "kcat is not installed";
  // A fake API for the collector: every fetch is logged with the slot it served.
  TestHttpServer api;
  std::mutex api_mu;
  std::vector<std::string> fetches;
  api.server().Get("/api/stars", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(api_mu);
    fetches.push_back(req.get_param_value("at"));
    res.set_content(R"({"data": [{"repo": "acme/a", "stars": 7}]})", "application/json");
  });
  ASSERT_TRUE(api.Start());

  std::string bootstrap = StartKafka("tracking:6");
  ASSERT_FALSE(bootstrap.empty()) << "mock cluster did not start";
  constexpr int kFirst = 30'000, kSecond = 30'000;
  ASSERT_EQ(RunSluice({"gen", "--events", std::to_string(kFirst), "--seed", "1", "--out", Path("a.ndjson")}).exit_code, 0);
  ASSERT_EQ(RunSluice({"gen", "--events", std::to_string(kSecond), "--seed", "2", "--out", Path("b.ndjson")}).exit_code, 0);
  Produce(bootstrap, Path("a.ndjson"), 0);

  std::string config = Config(
      "streams:\n  tracking:\n    event_time: ts\n    allowed_lateness: 1h\n"
      "    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }\n"
      "    sources:\n      - { kind: kafka, brokers: \"" + bootstrap + "\", topic: tracking, group: workers,"
      " options: { session.timeout.ms: \"6000\", heartbeat.interval.ms: \"500\" } }\n"
      "    batch: { max_records: 2000, max_wait: 300ms }\n"
      "rollups:\n"
      "  by_country:\n    stream: tracking\n    grain: hour\n    dimensions: [country]\n    measures: { events: count }\n"
      "  by_ad:\n    stream: tracking\n    grain: day\n    dimensions: [ad_id]\n    measures: { events: count }\n"
      "collectors:\n  stars:\n    kind: http_json\n    schedule: \"* * * * *\"\n"
      "    url: \"" + api.base_url() + "/api/stars?at={{date}}\"\n    rows: $.data[*]\n"
      "    fields: { repo: string, stars: int64 }\n    key: [repo]\n");

  StartWorker(config, "w1");
  StartWorker(config, "w2");
  StartWorker(config, "w3");
  // Mid-stream: some, not all, of the first half is in.
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 120; ++i) {
    std::string n = Q("SELECT count() FROM raw_tracking");
    if (!n.empty() && std::stoll(n) > 0) break;
    std::this_thread::sleep_for(milliseconds(250));
  }
  // Workers publish what they hold every 2 s.
  CommandResult status;
  for (int i = 0; i < 20; ++i) {
    status = RunSluice({"status", "-c", config});
    if (status.output.find("tracking/") != std::string::npos) break;
    std::this_thread::sleep_for(milliseconds(500));
  }
  EXPECT_EQ(status.exit_code, 0) << status.output;
  for (const char* w : {"w1", "w2", "w3"}) EXPECT_NE(status.output.find(w), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("tracking/"), std::string::npos) << "partitions not shown:\n" << status.output;
  EXPECT_NE(status.output.find("transform:by_country"), std::string::npos) << status.output;

  Kill9("w2");
  Produce(bootstrap, Path("b.ndjson"), kFirst);
  std::this_thread::sleep_for(seconds(2));
  StartWorker(config, "w2");  // the same name, restarted
  std::this_thread::sleep_for(seconds(3));
  StopCleanly("w3");

  const std::string total = std::to_string(kFirst + kSecond);
  EXPECT_EQ(WaitFor("SELECT count() FROM raw_tracking", total, seconds(120)), total) << Tail(LogOf("w1"));
  // Let at least one collector slot come and the transforms settle, then stop the rest cleanly.
  while (std::chrono::steady_clock::now() - started < seconds(65)) std::this_thread::sleep_for(milliseconds(500));
  StopCleanly("w1");
  StopCleanly("w2");

  // Every event once.
  EXPECT_EQ(Q("SELECT count() FROM raw_tracking"), total);
  EXPECT_EQ(Q("SELECT uniqExact(_source, _partition, _offset) FROM raw_tracking_origin"), total);
  EXPECT_EQ(Q("SELECT uniqExact(_partition) FROM raw_tracking_origin"), "6");
  // The rollups equal GROUP BY over raw.
  EXPECT_EQ(Q("SELECT hour, country, events FROM by_country ORDER BY hour, country"),
            Q("SELECT toStartOfHour(ts, 'UTC') AS h, country, count() FROM raw_tracking GROUP BY h, country "
              "ORDER BY h, country"));
  EXPECT_EQ(Q("SELECT sum(events) FROM by_ad"), total);
  // Each transform group was committed by one worker at a time: no two commits of one lease by different
  // workers overlap in time.
  auto commits = TransformCommits();
  EXPECT_TRUE(commits.count("transform:by_country")) << "no transform commits logged";
  for (auto& [lease, list] : commits) {
    std::sort(list.begin(), list.end(), [](const Commit& a, const Commit& b) { return a.start < b.start; });
    for (size_t i = 1; i < list.size(); ++i)
      if (list[i].worker != list[i - 1].worker)
        EXPECT_GE(list[i].start, list[i - 1].end)
            << lease << ": " << list[i - 1].worker << " and " << list[i].worker << " committed at the same time";
  }
  // No collector slot ran twice: one fetch per slot at the API, one succeeded run per slot in the ledger.
  {
    std::lock_guard<std::mutex> lock(api_mu);
    EXPECT_GE(fetches.size(), 1u) << "the collector never ran";
  }
  EXPECT_EQ(Q("SELECT count() FROM (SELECT scheduled_us FROM _sluice_runs FINAL WHERE collector = 'stars' AND "
              "status = 'succeeded' GROUP BY scheduled_us HAVING count() > 1)"),
            "0");
  std::string slots = Q("SELECT uniqExact(scheduled_us) FROM _sluice_runs FINAL WHERE collector = 'stars'");
  std::lock_guard<std::mutex> lock(api_mu);
  EXPECT_EQ(std::to_string(fetches.size()), slots) << "a slot was fetched more than once";
}

TEST_F(WorkersTest, HttpBodiesSpreadOverTwoWorkersOneKilledAreEachLoadedOnce) {
  std::string config = Config(
      "streams:\n  ev:\n    event_time: ts\n    schema: { ts: timestamp, body: int64, n: int64 }\n"
      "    sources: [ { kind: http } ]\n    batch: { max_records: 1000, max_wait: 100ms }\n");
  StartWorker(config, "a");
  StartWorker(config, "b");
  // Clients post numbered bodies alternately to both workers; a is killed with kill -9 halfway.
  constexpr int kBodies = 300, kPerBody = 10;
  std::set<int> acknowledged;
  std::atomic<bool> a_killed{false};
  for (int body = 0; body < kBodies; ++body) {
    if (body == kBodies / 2) {
      Kill9("a");
      a_killed = true;
    }
    const bool to_a = body % 2 == 0;
    if (to_a && a_killed) continue;  // a is gone; its clients get connection refused
    std::string ndjson;
    for (int i = 0; i < kPerBody; ++i)
      ndjson += R"({"ts":"2026-11-01T10:00:00Z","body":)" + std::to_string(body) + R"(,"n":)" + std::to_string(i) + "}\n";
    auto [code, text] = HttpPost(workers_[to_a ? "a" : "b"].port, "/ingest/ev", ndjson);
    if (code == 200) acknowledged.insert(body);
  }
  ASSERT_GE(acknowledged.size(), static_cast<size_t>(kBodies / 2));
  StartWorker(config, "a");  // restarted: completes what it had landed
  std::this_thread::sleep_for(seconds(2));
  StopCleanly("a");
  StopCleanly("b");
  // Every acknowledged body is there, with all its records, once; the workers kept separate positions.
  EXPECT_EQ(Q("SELECT count() FROM (SELECT body FROM raw_ev GROUP BY body, n HAVING count() > 1)"), "0");
  int complete = 0;
  for (int body : acknowledged)
    complete += Q("SELECT count() FROM raw_ev WHERE body = " + std::to_string(body)) == std::to_string(kPerBody);
  EXPECT_EQ(complete, static_cast<int>(acknowledged.size()));
  EXPECT_EQ(Q("SELECT arrayStringConcat(arraySort(groupUniqArray(_partition)), ',') FROM raw_ev_origin"), "http/a,http/b");
}

TEST_F(WorkersTest, AFileSourceIsReadByOneWorkerAndTakenOverWhenItDies) {
  std::filesystem::create_directories(Path("in"));
  ASSERT_EQ(RunSluice({"gen", "--events", "20000", "--seed", "3", "--out", Path("in/a.ndjson")}).exit_code, 0);
  std::string config = Config(
      "streams:\n  tracking:\n    event_time: ts\n"
      "    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }\n"
      "    sources: [ { kind: file, path: in, follow: true } ]\n    batch: { max_records: 1000, max_wait: 200ms }\n");
  StartWorker(config, "x");
  StartWorker(config, "y");
  EXPECT_EQ(WaitFor("SELECT count() FROM raw_tracking", "20000", seconds(60)), "20000");
  // Exactly one of them holds the source's lease.
  std::string status = RunSluice({"status", "-c", config}).output;
  std::smatch owner;
  ASSERT_TRUE(std::regex_search(status, owner, std::regex(R"(source:tracking\.file\s+(\w+))"))) << status;
  const std::string first = owner[1], other = first == "x" ? "y" : "x";
  Kill9(first);
  // More data while its owner is dead: the other worker takes the lease over within the lease timeout (4 s)
  // and reads on from the checkpoints.
  ASSERT_EQ(RunSluice({"gen", "--events", "10000", "--seed", "4", "--out", Path("in/b.ndjson")}).exit_code, 0);
  EXPECT_EQ(WaitFor("SELECT count() FROM raw_tracking", "30000", seconds(60)), "30000") << Tail(LogOf(other));
  EXPECT_NE(Tail(LogOf(other), 1 << 20).find("holding source:tracking.file"), std::string::npos);
  StopCleanly(other);
  EXPECT_EQ(Q("SELECT uniqExact(_partition, _offset) FROM raw_tracking_origin"), "30000");
}

}  // namespace
}  // namespace sluice::e2e
