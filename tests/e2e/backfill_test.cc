// Retention and replay end to end with the real binary: a warehouse deleted after ingest is rebuilt by
// `sluice backfill` from landing alone (same rows at the same positions, same dead letters, checkpoints and
// rollup), a second backfill changes nothing, and `retention` drops old raw days while the rollup keeps them
// (a straggler for an expired day does not shrink its rolled-up hour).
#include <filesystem>

#include "core/time.h"
#include "harness.h"

namespace sluice::e2e {
namespace {

class BackfillTest : public ScratchDir {
 protected:
  std::string Config(const std::string& stream_extra = "") const {
    return Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  tracking:
    event_time: ts
    max_record: 2KiB
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: file, path: events/*.ndjson }
    batch: { max_records: 3000 }
)" + stream_extra + R"(
rollups:
  hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id]
    measures: { events: count }
)");
  }
};

// Everything backfill must reproduce, each as one fingerprint.
struct Snapshot {
  std::string raw_rows, positions, dead_letters, checkpoints, rollup;
  bool operator==(const Snapshot&) const = default;
};

Snapshot Take(const std::string& config) {
  Snapshot s;
  s.raw_rows = QueryScalar(config, "SELECT count(*) FROM raw_tracking");
  s.positions = QueryScalar(
      config,
      "SELECT md5(string_agg(_partition || ':' || _offset, ',' ORDER BY _partition, _offset)) FROM raw_tracking_origin");
  s.dead_letters = QueryScalar(config,
                               "SELECT count(*) || '/' || md5(string_agg(\"partition\" || ':' || \"offset\" || ':' || "
                               "error, ',' ORDER BY \"partition\", \"offset\")) FROM _sluice_dead_letters");
  s.checkpoints = QueryScalar(
      config,
      "SELECT string_agg(\"partition\" || '=' || next_offset, ',' ORDER BY \"partition\") FROM _sluice_checkpoints");
  s.rollup = QueryScalar(config,
                         "SELECT count(*) || '/' || sum(events) || '/' || md5(string_agg(hour || '/' || ad_id || '/' "
                         "|| events, ',' ORDER BY hour, ad_id)) FROM hourly");
  return s;
}

void PrintTo(const Snapshot& s, std::ostream* os) {
  *os << "{rows " << s.raw_rows << ", positions " << s.positions << ", dead " << s.dead_letters << ", checkpoints "
      << s.checkpoints << ", rollup " << s.rollup << "}";
}

TEST_F(BackfillTest, RebuildsTheWarehouseFromLandingAndIsIdempotent) {
  std::string config = Config();
  std::filesystem::create_directories(Path("events"));
  ASSERT_EQ(RunSluice({"gen", "--events", "20000", "--bad", "30", "--out", Path("events/a.ndjson")}).exit_code, 0);
  ASSERT_EQ(RunSluice({"gen", "--events", "5000", "--seed", "9", "--out", Path("events/b.ndjson")}).exit_code, 0);
  CommandResult ingest = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  Snapshot before = Take(config);
  ASSERT_EQ(before.raw_rows, "25000");
  ASSERT_EQ(before.dead_letters.substr(0, 3), "30/");
  ASSERT_EQ(before.positions.size(), 32u);  // an md5: the queries answered
  ASSERT_NE(before.checkpoints.find("a.ndjson="), std::string::npos) << before.checkpoints;
  ASSERT_NE(before.rollup.find("/25000/"), std::string::npos) << before.rollup;

  std::filesystem::remove(Path("wh.duckdb"));
  std::filesystem::remove(Path("wh.duckdb.wal"));
  CommandResult backfill = RunSluice({"backfill", "-c", config, "--stream", "tracking"});
  ASSERT_EQ(backfill.exit_code, 0) << backfill.output;
  EXPECT_NE(backfill.output.find("(25000 rows), 0 skipped"), std::string::npos) << backfill.output;
  EXPECT_EQ(Take(config), before);

  CommandResult again = RunSluice({"backfill", "-c", config, "--stream", "tracking"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find(": 0 batch(es) loaded (0 rows)"), std::string::npos) << again.output;
  EXPECT_EQ(Take(config), before);
  // The rebuilt checkpoints are the live ones: ingest finds nothing new to read.
  ASSERT_EQ(RunSluice({"ingest", "-c", config, "--once", "--quiet"}).exit_code, 0);
  EXPECT_EQ(Take(config), before);

  CommandResult unknown = RunSluice({"backfill", "-c", config, "--stream", "nope"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
}

TEST_F(BackfillTest, RetentionDropsOldRawDaysButRollupsKeepThem) {
  std::string config = Config("    retention: 2d\n");
  std::filesystem::create_directories(Path("events"));
  int32_t today = DayOf(NowMicros());
  // 400 events at 06:00 on each of the last five days (late ones stay within the day): 0.2 s of event time.
  for (int back = 4; back >= 0; --back) {
    std::string day = FormatIsoDate(today - back);
    CommandResult g = RunSluice({"gen", "--events", "400", "--seed", std::to_string(back + 1), "--start",
                                 day + "T06:00:00Z", "--out", Path("events/d" + std::to_string(back) + ".ndjson")});
    ASSERT_EQ(g.exit_code, 0) << g.output;
  }
  CommandResult ingest = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  std::string cutoff = "DATE '" + FormatIsoDate(today - 2) + "'";
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking WHERE event_date < " + cutoff), "0");
  EXPECT_EQ(QueryScalar(config, "SELECT count(DISTINCT event_date) FROM raw_tracking"), "3");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "1200");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(events) FROM hourly WHERE hour < " + cutoff), "800");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(events) FROM hourly"), "2000");

  // A straggler for an expired day must not make the rollup recompute that hour from the one raw row left.
  Write("events/late.ndjson",
        "{\"ts\":\"" + FormatIsoDate(today - 4) + "T06:00:00Z\",\"ad_id\":1,\"event\":\"start\"}\n");
  ingest = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(ingest.exit_code, 0) << ingest.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking WHERE event_date < " + cutoff), "0");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(events) FROM hourly WHERE hour < " + cutoff), "800");

  // A full refresh rebuilds from raw only what raw still holds: the expired buckets stay as rolled up.
  CommandResult refresh = RunSluice({"transform", "-c", config, "--full-refresh"});
  ASSERT_EQ(refresh.exit_code, 0) << refresh.output;
  EXPECT_EQ(QueryScalar(config, "SELECT sum(events) FROM hourly WHERE hour < " + cutoff), "800");
  EXPECT_EQ(QueryScalar(config, "SELECT sum(events) FROM hourly"), "2000");
}

}  // namespace
}  // namespace sluice::e2e
