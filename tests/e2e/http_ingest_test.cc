// `sluice run` end to end: POST /ingest answers after commit with counts (concurrent bodies share batches,
// each answered with its own), 413 past the size limit, 404 for an unknown stream; `sluice query` reaches the
// warehouse through the running process; /metrics shows counters; SIGTERM finishes cleanly.
#include <future>

#include "harness.h"

namespace sluice::e2e {
namespace {

class HttpIngestTest : public ScratchDir {};

TEST_F(HttpIngestTest, IngestAnswersAfterCommitAndQueriesGoThroughTheRunningProcess) {
  int port = FreePort();
  std::string config = Write("sluice.yaml", ServedConfigHead(port) + R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources:
      - { kind: http, max_body: 1KiB }
    batch: { max_wait: 200ms }
)");
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20)) << "sluice run did not come up";
  auto [code, body] = HttpPost(port, "/ingest/tracking",
                               "{\"ts\":\"2026-11-01T10:00:00Z\",\"ad_id\":1,\"event\":\"start\"}\n"
                               "{\"ts\":\"2026-11-01T10:00:01Z\",\"ad_id\":1,\"event\":\"complete\"}\n"
                               "{\"ts\":\"2026-11-01T10:59:59Z\",\"ad_id\":2,\"event\":\"click\"}\n"
                               "{\"ts\":\"2026-11-01T10:00:02Z\",\"ad_id\":\"two\"}\n");
  EXPECT_EQ(code, 200) << body;
  EXPECT_NE(body.find("\"loaded\":3,\"dead_lettered\":1"), std::string::npos) << body;
  // Answered after commit: the rows are queryable right away, through the process that holds the file.
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "3");
  EXPECT_EQ(QueryScalar(config, "SELECT error FROM _sluice_dead_letters"),
            "field 'ad_id': expected int64, got a string");

  auto second = HttpPost(port, "/ingest/tracking", "{\"ts\":\"2026-11-01T11:00:00Z\",\"ad_id\":3,\"event\":\"start\"}\n");
  EXPECT_EQ(second.first, 200);
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "4");
  // HTTP batches are sequenced: offsets continue across requests.
  EXPECT_EQ(QueryScalar(config, "SELECT max(_offset) FROM raw_tracking"), "4");

  auto big = HttpPost(port, "/ingest/tracking", std::string(2000, ' '));
  EXPECT_EQ(big.first, 413) << big.second;
  auto unknown = HttpPost(port, "/ingest/nope", "{}\n");
  EXPECT_EQ(unknown.first, 404);
  auto query = HttpGet(port, "/api/query?format=csv&sql=SELECT%20event%20FROM%20raw_tracking%20ORDER%20BY%20ts%20LIMIT%201");
  EXPECT_EQ(query.first, 200);
  EXPECT_EQ(query.second, "event\r\nstart\r\n");
  auto write = HttpGet(port, "/api/query?sql=DROP%20TABLE%20raw_tracking");
  EXPECT_EQ(write.first, 400) << "the query API is read-only";
  auto metrics = HttpGet(port, "/metrics");
  EXPECT_NE(metrics.second.find("sluice_rows_loaded_total{stream=\"tracking\",source=\"tracking.http\"} 4"),
            std::string::npos) << metrics.second;
  EXPECT_NE(metrics.second.find("sluice_dead_letters_total{stream=\"tracking\",source=\"tracking.http\"} 1"),
            std::string::npos);

  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
  // After exit the file is free again and holds everything.
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "4");

  // A restart continues the HTTP sequence from the committed checkpoint.
  pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run2.log"));
  ASSERT_TRUE(WaitHealthy(port, 20));
  auto third = HttpPost(port, "/ingest/tracking", "{\"ts\":\"2026-11-01T12:00:00Z\",\"ad_id\":4,\"event\":\"start\"}\n");
  EXPECT_EQ(third.first, 200) << third.second;
  EXPECT_EQ(QueryScalar(config, "SELECT max(_offset) FROM raw_tracking"), "5");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
}

// Group commit: 20 clients posting at once are each answered 200 with their own counts; the warehouse holds
// exactly their sum, in fewer batches (transactions) than bodies; a dead letter counts in its body's answer.
TEST_F(HttpIngestTest, ConcurrentClientsShareBatchesAndEachGetsItsOwnCounts) {
  int port = FreePort();
  std::string config = Write("sluice.yaml", ServedConfigHead(port) + R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64 }
    sources: [ { kind: http } ]
)");
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20)) << "sluice run did not come up";
  std::vector<std::future<std::pair<int, std::string>>> answers;
  int expected = 0;
  for (int i = 0; i < 20; ++i) {
    std::string body;
    for (int r = 0; r <= i % 3; ++r)
      body += "{\"ts\":\"2026-11-01T10:00:00Z\",\"ad_id\":" + std::to_string(i * 10 + r) + "}\n";
    if (i == 5) body += "{\"ts\":\"2026-11-01T10:00:00Z\",\"ad_id\":\"five\"}\n";
    expected += i % 3 + 1;
    answers.push_back(std::async(std::launch::async, [port, body] { return HttpPost(port, "/ingest/tracking", body); }));
  }
  for (int i = 0; i < 20; ++i) {
    auto [code, body] = answers[i].get();
    EXPECT_EQ(code, 200) << body;
    EXPECT_NE(body.find("\"loaded\":" + std::to_string(i % 3 + 1) + ",\"dead_lettered\":" + (i == 5 ? "1" : "0")),
              std::string::npos)
        << "client " << i << ": " << body;
  }
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), std::to_string(expected));
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_dead_letters"), "1");
  EXPECT_LT(std::stoi(QueryScalar(config, "SELECT count(*) FROM _sluice_batches")), 20);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);
}

}  // namespace
}  // namespace sluice::e2e
