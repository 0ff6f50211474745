// File source end to end: dead letters for every reason, loaded + dead = read per batch, resume from the
// checkpoint after the file grows, config errors with file/line/field, status output.
#include <fstream>

#include "harness.h"

namespace sluice::e2e {
namespace {

class FileIngestTest : public ScratchDir {
 protected:
  std::string Config(const std::string& extra = "") {
    return Write("sluice.yaml", R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  tracking:
    event_time: ts
    max_record: 2KiB
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, session: string, country: string, ua: string }
    sources:
      - { kind: file, path: events/*.ndjson )" + extra + R"(}
    batch: { max_records: 7000 }
)");
  }
};

TEST_F(FileIngestTest, EveryRecordIsLoadedOrDeadLetteredExactlyOnceAcrossRuns) {
  std::string config = Config();
  CommandResult g = RunSluice({"gen", "--events", "30000", "--bad", "40", "--out", Path("events/a.ndjson")});
  ASSERT_EQ(g.exit_code, 0) << g.output;
  {
    std::ofstream f(Path("events/a.ndjson"), std::ios::app);
    f << "{\"ts\":\"2026-11-01T00:00:00Z\",\"ad_id\":1,\"ua\":\"" << std::string(3000, 'x') << "\"}\n";
    f << "{\"ts\":\"2026-11-01T00:00:00Z\",\"ad_id\":1,\"event\":\"\xc3\x28\"}\n";
    f << "\n";  // blank lines are not records
  }
  CommandResult r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("read 30042 records: loaded 30000, dead-lettered 42"), std::string::npos) << r.output;
  // Every dead-letter reason the generator and this test planted, each with its source position.
  EXPECT_EQ(QueryScalar(config, "SELECT string_agg(DISTINCT reason, '|' ORDER BY reason) FROM "
                                "(SELECT trim(regexp_extract(error, '^[A-Za-z -]+')) AS reason FROM _sluice_dead_letters)"),
            "field|invalid JSON|invalid UTF-|missing event time|record too long");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_dead_letters WHERE \"partition\" LIKE '%/events/a.ndjson' "
                                "AND \"offset\" >= 0 AND raw_length > 0"),
            "42");
  EXPECT_EQ(QueryScalar(config, "SELECT max(raw_length) FROM _sluice_dead_letters"), "3047");
  // loaded + dead = read, for every batch.
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_batches WHERE rows + dead_rows != "
                                "(SELECT sum((value->>'records')::BIGINT) FROM json_each(partitions))"),
            "0");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM _sluice_batches"), "5");

  // The file grows; a second run reads only the new part.
  g = RunSluice({"gen", "--events", "5000", "--seed", "7", "--out", Path("events/b.ndjson")});
  ASSERT_EQ(g.exit_code, 0);
  {
    std::ifstream in(Path("events/b.ndjson"));
    std::ofstream out(Path("events/a.ndjson"), std::ios::app);
    out << in.rdbuf();
  }
  std::filesystem::remove(Path("events/b.ndjson"));
  r = RunSluice({"ingest", "-c", config, "--once", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("read 5000 records: loaded 5000, dead-lettered 0"), std::string::npos) << r.output;
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM raw_tracking"), "35000");
  EXPECT_EQ(QueryScalar(config, "SELECT count(*) FROM (SELECT _partition, _offset FROM raw_tracking_origin GROUP BY ALL "
                                "HAVING count(*) > 1)"),
            "0");
  EXPECT_EQ(QueryScalar(config, "SELECT next_offset = " + std::to_string(std::filesystem::file_size(Path("events/a.ndjson"))) +
                                    " FROM _sluice_checkpoints"),
            "true");

  CommandResult s = RunSluice({"status", "-c", config});
  ASSERT_EQ(s.exit_code, 0) << s.output;
  EXPECT_NE(s.output.find("tracking.file"), std::string::npos) << s.output;
  EXPECT_NE(s.output.find("35000"), std::string::npos) << s.output;
}

TEST_F(FileIngestTest, ValidateReportsEveryErrorWithFileLineAndField) {
  std::string bad = Write("bad.yaml", R"(warehouse: { kind: duckdb, path: wh.duckdb }
streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, n: integer64 }
    sources:
      - { kind: file }
    batch: { max_wait: soon }
)");
  CommandResult r = RunSluice({"validate", "-c", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find(bad + ":5:33: streams.tracking.schema.n: unknown type 'integer64'"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find(bad + ":7:9: streams.tracking.sources[0].path: required field is missing"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find(bad + ":8:24: streams.tracking.batch.max_wait: not a duration: 'soon'"), std::string::npos)
      << r.output;
  // `run` refuses the same config at start, with the same messages.
  r = RunSluice({"run", "-c", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("unknown type 'integer64'"), std::string::npos) << r.output;
  r = RunSluice({"validate", "-c", Config()});
  EXPECT_EQ(r.exit_code, 0) << r.output;

  // Rollups and collectors are checked by validate too, with the same file:line:field messages.
  std::string later = Write("later.yaml", R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, event: string }
    sources: [ { kind: http } ]
rollups:
  hourly: { stream: tracking, grain: hour, dimensions: [nope] }
collectors:
  gh: { kind: github, schedule: "61 * * * *", org: acme }
)");
  r = RunSluice({"validate", "-c", later});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(later + ":7:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rollups.hourly.dimensions"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(later + ":9:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("collectors.gh.schedule"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::e2e
