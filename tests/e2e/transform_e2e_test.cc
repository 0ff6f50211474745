// Rollups end to end with the real binary: `ingest --once` leaves the rollup built; inside `sluice run` the
// rollup follows HTTP ingest within seconds, a late event is re-rolled into its hour; `sluice transform` is
// then a no-op; `explain rollup` prints the SQL; a model cycle stops the command at start.
#include <chrono>
#include <thread>

#include "harness.h"

namespace sluice::e2e {
namespace {

class TransformE2eTest : public ScratchDir {};

constexpr const char* kRollup = R"(
rollups:
  hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id]
    pivot: { column: event, values: [start, click] }
    measures: { events: count }
)";

// Polls `sql` until it returns `want` or ~10 s pass; returns the last value.
std::string WaitForValue(const std::string& config, const std::string& sql, const std::string& want) {
  std::string got;
  for (int i = 0; i < 100; ++i) {
    got = QueryScalar(config, sql);
    if (got == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return got;
}

TEST_F(TransformE2eTest, RollupFollowsIngestInsideRunAndLateEventsAreReRolled) {
  int port = FreePort();
  std::string config = Write("sluice.yaml", ServedConfigHead(port) + R"(streams:
  tracking:
    event_time: ts
    allowed_lateness: 1h
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources: [ { kind: http } ]
    batch: { max_wait: 100ms }
)" + kRollup);
  pid_t pid = StartSluice({"run", "-c", config, "--quiet"}, Path("run.log"));
  ASSERT_TRUE(WaitHealthy(port, 20)) << "sluice run did not come up";
  auto [code, body] = HttpPost(port, "/ingest/tracking",
                               "{\"ts\":\"2026-11-01T10:00:00Z\",\"ad_id\":1,\"event\":\"start\"}\n"
                               "{\"ts\":\"2026-11-01T10:20:00Z\",\"ad_id\":1,\"event\":\"click\"}\n"
                               "{\"ts\":\"2026-11-01T14:00:00Z\",\"ad_id\":1,\"event\":\"start\"}\n");
  ASSERT_EQ(code, 200) << body;
  // The first transform creates the table; asking for it before then would be a query error.
  ASSERT_EQ(WaitForValue(config, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'hourly'", "1"), "1");
  EXPECT_EQ(WaitForValue(config, "SELECT string_agg(hour || '/' || events || '/' || start || '/' || click, ',' ORDER BY hour) FROM hourly",
                         "2026-11-01 10:00:00/2/1/1,2026-11-01 14:00:00/1/1/0"),
            "2026-11-01 10:00:00/2/1/1,2026-11-01 14:00:00/1/1/0");
  // Four hours late, behind the watermark: still loaded and rolled into hour 10.
  ASSERT_EQ(HttpPost(port, "/ingest/tracking", "{\"ts\":\"2026-11-01T10:30:00Z\",\"ad_id\":1,\"event\":\"click\"}\n").first, 200);
  EXPECT_EQ(WaitForValue(config, "SELECT click FROM hourly WHERE hour = '2026-11-01 10:00:00'", "2"), "2");
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(final::VARCHAR, ',' ORDER BY hour) FROM _sluice_hours"), "true,false");
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitFor(pid), 0);

  auto again = RunSluice({"transform", "-c", config});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("0 table(s) changed"), std::string::npos) << again.output;
  auto explain = RunSluice({"explain", "rollup", "hourly", "-c", config});
  EXPECT_EQ(explain.exit_code, 0) << explain.output;
  EXPECT_NE(explain.output.find("count(*) FILTER (WHERE \"event\" = 'click') AS \"click\""), std::string::npos)
      << explain.output;
}

TEST_F(TransformE2eTest, IngestOnceBuildsRollupsAndModelCycleIsAnErrorAtStart) {
  Write("events.ndjson", "{\"ts\":\"2026-11-01T10:00:00Z\",\"ad_id\":1,\"event\":\"start\"}\n"
                         "{\"ts\":\"2026-11-01T11:00:00Z\",\"ad_id\":2,\"event\":\"click\"}\n");
  std::string base = R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources: [ { kind: file, path: events.ndjson } ]
)" + std::string(kRollup);
  std::string config = Write("sluice.yaml", base);
  auto r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT sum(events) || '/' || sum(click) FROM hourly"), "2/1");

  Write("models/a.sql", "SELECT * FROM {{ ref('b') }}");
  Write("models/b.sql", "SELECT * FROM {{ ref('a') }}");
  std::string cyclic = Write("cyclic.yaml", base + "models: models\n");
  auto bad = RunSluice({"transform", "-c", cyclic});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("model cycle: a -> b -> a"), std::string::npos) << bad.output;
  auto bad_ingest = RunSluice({"ingest", "-c", cyclic, "--once", "--quiet"});
  EXPECT_NE(bad_ingest.exit_code, 0);
  EXPECT_NE(bad_ingest.output.find("model cycle: a -> b -> a"), std::string::npos) << bad_ingest.output;
}

}  // namespace
}  // namespace sluice::e2e
