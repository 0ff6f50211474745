#include "core/config.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(ConfigTest, ParsesStreamWithNestedSchemaAndSources) {
  auto c = ParseConfig(R"(
warehouse: { kind: duckdb, path: wh.duckdb }
landing: { path: land }
streams:
  github_events:
    event_time: created_at
    schema:
      id: string
      created_at: timestamp
      actor: { id: int64, login: string }
      tags: [string]
      payload: json
      scores: { type: list, of: float64 }
      sent_ms: timestamp_ms
    sources:
      - { kind: file, path: events.ndjson }
    batch: { max_records: 5000, max_wait: 250ms }
)",
                       "t.yaml", "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->streams.size(), 1u);
  const StreamConfig& s = c->streams[0];
  EXPECT_EQ(s.event_time_field().name, "created_at");
  EXPECT_EQ(s.schema.fields[2].type.SqlType(), "STRUCT(\"id\" BIGINT, \"login\" VARCHAR)");
  EXPECT_EQ(s.schema.fields[3].type.SqlType(), "VARCHAR[]");
  EXPECT_EQ(s.schema.fields[5].type.SqlType(), "DOUBLE[]");
  EXPECT_EQ(s.schema.fields[6].type.epoch, EpochUnit::kMillis);
  EXPECT_EQ(s.batch.max_records, 5000);
  EXPECT_EQ(s.batch.max_wait_us, 250000);
  EXPECT_EQ(s.sources[0].name, "github_events.file");
  EXPECT_EQ(c->warehouse_path, "/base/wh.duckdb");
  EXPECT_EQ(c->landing_path, "/base/land");
}

TEST(ConfigTest, ReportsEveryErrorWithFileLineAndField) {
  auto c = ParseConfig(R"(streams:
  tracking:
    event_time: ts
    schema: { ts: string, n: integr }
    sources:
      - { kind: kafak, topic: t }
    batch: { max_wait: 1x, max_recods: 5 }
)",
                       "bad.yaml");
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("bad.yaml:4:30: streams.tracking.schema.n: unknown type 'integr'"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:3:17: streams.tracking.event_time: 'ts' must be declared as a timestamp"),
            std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:6:17: streams.tracking.sources[0].kind: unknown source kind 'kafak'"),
            std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:7:24: streams.tracking.batch.max_wait: not a duration: '1x'"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:7:28: streams.tracking.batch.max_recods: unknown field"), std::string::npos) << m;
}

TEST(ConfigTest, DuckDbMemoryLimitHasADefaultAndASize) {
  const std::string streams = "streams:\n  s: { event_time: ts, schema: { ts: timestamp }, sources: [ { kind: http } ] }\n";
  auto by_default = ParseConfig(streams, "a.yaml");
  ASSERT_TRUE(by_default.ok()) << by_default.status().ToString();
  EXPECT_EQ(by_default->warehouse_memory_limit, int64_t{1} << 30);
  auto set = ParseConfig("warehouse: { path: w.duckdb, memory_limit: 4GiB }\n" + streams, "b.yaml");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->warehouse_memory_limit, int64_t{4} << 30);
  auto tiny = ParseConfig("warehouse: { path: w.duckdb, memory_limit: 1MiB }\n" + streams, "c.yaml");
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.status().message().find("c.yaml:1:44: warehouse.memory_limit: at least 64MiB"), std::string::npos)
      << tiny.status().message();
  auto bad = ParseConfig("warehouse: { path: w.duckdb, memory_limit: lots }\n" + streams, "d.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("d.yaml:1:44: warehouse.memory_limit: not a size"), std::string::npos)
      << bad.status().message();
}

// Raw's own column names (and those its origin view adds) cannot be fields, and no stream's raw table may take
// the name of another stream's origin view.
TEST(ConfigTest, RawsColumnNamesAndOriginViewNamesAreReserved) {
  auto c = ParseConfig(
      "streams:\n"
      "  ev: { event_time: ts, schema: { ts: timestamp, _partition_index: int64 }, sources: [ { kind: http } ] }\n"
      "  ev_origin: { event_time: ts, schema: { ts: timestamp }, sources: [ { kind: http } ] }\n",
      "r.yaml");
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("r.yaml:2:68: streams.ev.schema._partition_index: name is reserved for sluice's own column"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("streams.ev_origin: its table raw_ev_origin is the name of the origin view of stream 'ev'"),
            std::string::npos)
      << m;
}

TEST(ConfigTest, MissingRequiredFieldsNameTheirParent) {
  auto c = ParseConfig("streams:\n  s:\n    schema: { ts: timestamp }\n    sources: [ { kind: kafka } ]\n", "x.yaml");
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("streams.s.event_time: required field is missing"), std::string::npos) << m;
  EXPECT_NE(m.find("streams.s.sources[0].brokers: required field is missing"), std::string::npos) << m;
  EXPECT_NE(m.find("streams.s.sources[0].topic: required field is missing"), std::string::npos) << m;
}

TEST(ConfigTest, WorkersCoordinationAndFileSourceOwners) {
  auto c = ParseConfig(R"(
coordination: { zookeeper: "127.0.0.1:2181", root: /sluice/prod, lease_timeout: 10s }
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp }
    sources:
      - { kind: file, path: in, worker: w2 }
      - { kind: http }
)",
                       "t.yaml", "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->zookeeper, "127.0.0.1:2181");
  EXPECT_EQ(c->coordination_root, "/sluice/prod");
  EXPECT_EQ(c->lease_timeout_us, 10'000'000);
  EXPECT_EQ(c->streams[0].sources[0].worker, "w2");

  auto bad = ParseConfig(R"(
coordination: { root: "sluice/", lease_timeout: 1s }
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp }
    sources:
      - { kind: http, worker: w1 }
)",
                         "bad.yaml");
  ASSERT_FALSE(bad.ok());
  const std::string& m = bad.status().message();
  EXPECT_NE(m.find("bad.yaml:2:15: coordination.zookeeper"), std::string::npos) << m;
  EXPECT_NE(m.find("coordination.root"), std::string::npos) << m;
  EXPECT_NE(m.find("coordination.lease_timeout: must be between 2s and 10m"), std::string::npos) << m;
  EXPECT_NE(m.find("streams.ev.sources[0].worker: only file sources belong to one worker"), std::string::npos) << m;
}

TEST(ConfigTest, YamlSyntaxErrorHasPosition) {
  auto c = ParseConfig("streams: {\n  a: [\n", "syn.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("syn.yaml:", 0), 0u) << c.status().message();
}

}  // namespace
}  // namespace sluice
