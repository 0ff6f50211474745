// Exactly-once under kill -9: 300,000 events, the ingesting process killed at random moments at least five
// times and restarted each time; at the end raw holds each (source, partition, offset) exactly once.
#include <chrono>
#include <random>
#include <thread>

#include "harness.h"

namespace sluice::e2e {
namespace {

class CrashTest : public ScratchDir {};

TEST_F(CrashTest, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  // Enough events that the kills land while there is still data to load, on a fast machine too.
  for (int part = 0; part < 3; ++part) {
    CommandResult g = RunSluice({"gen", "--events", "100000", "--seed", std::to_string(part + 1), "--out",
                                 Path("events/part" + std::to_string(part) + ".ndjson")});
    ASSERT_EQ(g.exit_code, 0) << g.output;
  }
  std::string config = Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: file, path: events }
    batch: { max_records: 4000 }
)");
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  int kills = 0;
  for (int attempt = 0; attempt < 40 && kills < 6; ++attempt) {
    pid_t pid = StartSluice({"ingest", "-c", config, "--once", "--quiet"}, Path("ingest.log"));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 350)(rng)));
    if (::kill(pid, SIGKILL) == 0) {
      int code = WaitFor(pid);
      if (code == 128 + SIGKILL) ++kills;
    } else {
      WaitFor(pid);
    }
  }
  EXPECT_GE(kills, 5) << "the process finished before it could be killed often enough";
  CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "300000");
  EXPECT_EQ(QueryScalar(config, "SELECT count(DISTINCT (_source, _partition, _offset)) FROM raw_tracking_origin"), "300000");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(rows) FROM _sluice_batches"), "300000");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_dead_letters"), "0");
}

}  // namespace
}  // namespace sluice::e2e
