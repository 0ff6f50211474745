// Exactly-once from Kafka under kill -9: 200,000 events produced (with kcat) (keyed) to a 16-partition topic on
// librdkafka's mock cluster, `sluice ingest` killed at random moments at least five times and restarted;
// at the end raw holds each (source, partition, offset) exactly once and the count matches.
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "harness.h"

namespace sluice::e2e {
namespace {

class KafkaCrashTest : public ScratchDir {
 protected:
  void TearDown() override {
    if (cluster_ > 0) {
      ::kill(cluster_, SIGTERM);
      WaitFor(cluster_);
    }
    ScratchDir::TearDown();
  }
  // Starts the mock cluster tool and returns its bootstrap servers.
  std::string StartCluster() {
    cluster_ = StartProgram(SLUICE_KAFKA_MOCK, {"--brokers", "3", "--topic", "tracking:16"}, Path("cluster.log"));
    for (int i = 0; i < 100; ++i) {
      std::ifstream log(Path("cluster.log"));
      std::string line;
      while (std::getline(log, line))
        if (line.rfind("bootstrap.servers=", 0) == 0) return line.substr(18);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }
  pid_t cluster_ = -1;
};

TEST_F(KafkaCrashTest, KillNineWhileConsumingLosesAndDuplicatesNothing) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0) GTEST_SKIP() << "kcat is not installed";
  std::string bootstrap = StartCluster();
  ASSERT_FALSE(bootstrap.empty()) << "mock cluster did not start";
  CommandResult g = RunSluice({"gen", "--events", "200000", "--out", Path("events.ndjson")});
  ASSERT_EQ(g.exit_code, 0) << g.output;
  // Keyed by line number so the partitions fill evenly: librdkafka's mock broker keeps only about 5 MB per
  // partition and drops older messages past that, which would look like loss.
  std::string produce = "awk '{print NR \"\\t\" $0}' " + Path("events.ndjson") + " | kcat -P -b " + bootstrap +
                        " -t tracking -K '\\t'";
  ASSERT_EQ(std::system(produce.c_str()), 0) << produce;

  std::string config = Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: kafka, brokers: ")" + bootstrap + R"(", topic: tracking, group: crash }
    batch: { max_records: 5000, max_wait: 500ms }
)");
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  int kills = 0;
  for (int attempt = 0; attempt < 40 && kills < 6; ++attempt) {
    pid_t pid = StartSluice({"ingest", "-c", config, "--once", "--quiet"}, Path("ingest.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 1500)(rng)));
    if (::kill(pid, SIGKILL) == 0 && WaitFor(pid) == 128 + SIGKILL) ++kills;
  }
  EXPECT_GE(kills, 5);
  CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "200000");
  EXPECT_EQ(QueryScalar(config, "SELECT count(DISTINCT (_source, _partition, _offset)) FROM raw_tracking_origin"), "200000");
  EXPECT_EQ(QueryScalar(config, "SELECT count(DISTINCT _partition) FROM raw_tracking_origin"), "16");
  // The checkpoints are the partitions' ends: offsets are dense from 0.
  EXPECT_EQ(QueryScalar(config, "SELECT sum(next_offset) FROM _sluice_checkpoints"), "200000");
}

}  // namespace
}  // namespace sluice::e2e
