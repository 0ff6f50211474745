#include "warehouse/duckdb/duckdb_warehouse.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/record_parser.h"

namespace sluice {
namespace {

Config MakeConfig(const std::string& schema_extra = "") {
  auto c = ParseConfig(R"(
streams:
  ev:
    event_time: ts
    schema:
      ts: timestamp
      kind: string
      actor: { id: int64, login: string }
      tags: [string]
)" + schema_extra + R"(
    sources: [ { kind: http } ]
)",
                       "t.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(*c);
}

Batch MakeBatch(const StreamConfig& s, int64_t first_offset, const std::vector<std::string>& records) {
  Batch b(&s);
  b.source = "src";
  RecordParser p(&s);
  uint32_t part = b.PartitionIndex("p0");
  int64_t off = first_offset;
  for (const auto& r : records) {
    p.Parse(r, part, off, off + 1, b);
    ++off;
  }
  return b;
}

class DuckDbWarehouseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_wh_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "w.duckdb").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // The warehouse at path_, opened and prepared for `c` (null after a failed assertion).
  std::unique_ptr<DuckDbWarehouse> OpenPrepared(const Config& c) {
    auto w = DuckDbWarehouse::Open(path_);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    if (!w.ok()) return nullptr;
    Status prepared = (*w)->Prepare(c);
    EXPECT_TRUE(prepared.ok()) << prepared.ToString();
    return prepared.ok() ? std::move(*w) : nullptr;
  }
  std::string Q(Warehouse& w, const std::string& sql) {
    auto r = w.Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->Scalar() : "";
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(DuckDbWarehouseTest, LoadsRowsDeadLettersCheckpointAndLedgerTogether) {
  Config c = MakeConfig();
  auto w = DuckDbWarehouse::Open(path_);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  Status prepared = (*w)->Prepare(c);
  ASSERT_TRUE(prepared.ok()) << prepared.ToString();
  Batch b = MakeBatch(
      c.streams[0], 10,
      {R"({"ts":"2015-01-01T13:00:00Z","kind":"b","actor":{"id":2,"login":"y"},"tags":["t1","t2"]})",
       R"({"ts":"2015-01-01T12:00:00Z","kind":"a","actor":{"id":1,"login":"x"},"more":true})", R"(not json)"});
  auto loaded = (*w)->LoadBatch(b, "landing/x.ndjson.zst");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, LoadOutcome::kLoaded);
  Warehouse& wh = **w;
  EXPECT_EQ(Q(wh, "SELECT count(*) FROM raw_ev"), "2");
  // Rows are stored in event order, with their position and day.
  EXPECT_EQ(Q(wh, "SELECT string_agg(kind || ':' || _offset || ':' || event_date, ',') FROM raw_ev"),
            "a:11:2015-01-01,b:10:2015-01-01");
  EXPECT_EQ(Q(wh, "SELECT actor.login FROM raw_ev WHERE kind = 'b'"), "y");
  EXPECT_EQ(Q(wh, "SELECT tags[2] FROM raw_ev WHERE kind = 'b'"), "t2");
  EXPECT_EQ(Q(wh, "SELECT _extra->>'more' FROM raw_ev WHERE kind = 'a'"), "true");
  EXPECT_EQ(Q(wh, "SELECT error || '@' || \"offset\" FROM _sluice_dead_letters"), "invalid JSON@12")
      << "dead letter reason and position";
  EXPECT_EQ(Q(wh, "SELECT next_offset FROM _sluice_checkpoints WHERE source = 'src'"), "13");
  EXPECT_EQ(Q(wh, "SELECT rows || '/' || dead_rows || '/' || len(event_hours) FROM _sluice_batches"), "2/1/2");
  auto cp = wh.Checkpoints("src");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->at("p0"), 13);

  // The same batch again (a replay) changes nothing.
  auto again = wh.LoadBatch(b, "landing/x.ndjson.zst");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, LoadOutcome::kDuplicate);
  EXPECT_EQ(Q(wh, "SELECT count(*) FROM raw_ev"), "2");

  // The same first position cut differently (a re-read that went further): the id matches but the ranges
  // do not, so it is not a replay; its records are committed, so it is stale and the source re-reads.
  Batch longer =
      MakeBatch(c.streams[0], 10,
                {R"({"ts":"2015-01-01T13:00:00Z","kind":"b"})", R"({"ts":"2015-01-01T12:00:00Z","kind":"a"})",
                 R"(not json)", R"({"ts":"2015-01-01T12:30:00Z","kind":"d"})"});
  ASSERT_EQ(longer.id, b.id);
  auto recut = wh.LoadBatch(longer, "landing/y.ndjson.zst");
  ASSERT_TRUE(recut.ok());
  EXPECT_EQ(*recut, LoadOutcome::kStale);
  EXPECT_EQ(Q(wh, "SELECT count(*) FROM raw_ev"), "2");
  EXPECT_EQ(Q(wh, "SELECT next_offset FROM _sluice_checkpoints WHERE source = 'src'"), "13");

  // A batch from an older position of the same partition (another consumer's, in flight during a
  // rebalance) is refused: its records were committed by the batch above.
  Batch stale = MakeBatch(c.streams[0], 11, {R"({"ts":"2015-01-01T12:00:00Z","kind":"c"})"});
  auto refused = wh.LoadBatch(stale, "f");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(*refused, LoadOutcome::kStale);
  EXPECT_EQ(Q(wh, "SELECT count(*) FROM raw_ev"), "2");
  EXPECT_EQ(Q(wh, "SELECT count(*) FROM _sluice_batches"), "1");
}

TEST_F(DuckDbWarehouseTest, MemoryLimitCapsDuckDbAndStaysAfterReopen) {
  for (int round = 0; round < 2; ++round) {
    auto w = DuckDbWarehouse::Open(path_, int64_t{256} << 20);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(Q(**w, "SELECT current_setting('memory_limit')"), "256.0 MiB");
  }
  auto unlimited = DuckDbWarehouse::Open(path_);
  ASSERT_TRUE(unlimited.ok()) << unlimited.status().ToString();
  EXPECT_NE(Q(**unlimited, "SELECT current_setting('memory_limit')"), "256.0 MiB") << "the limit is per open";
}

TEST_F(DuckDbWarehouseTest, SluicesOwnQueriesReadNestedValuesAsJson) {
  auto w = DuckDbWarehouse::Open(path_);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  // Marts and reports read rollups and models whose columns may be nested (release assets).
  auto r = (*w)->Query(
      "SELECT * FROM (VALUES (1, [{'name': 'a.zip', 'n': 2}], {'k': 'v'}, NULL::INT[]), (2, [], NULL, [3])) t(id, "
      "assets, s, l) ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0][0].value_or("NULL"), "1");
  EXPECT_EQ(r->rows[0][1].value_or("NULL"), "[{\"name\":\"a.zip\",\"n\":2}]");
  EXPECT_EQ(r->rows[0][2].value_or("NULL"), "{\"k\":\"v\"}");
  EXPECT_FALSE(r->rows[0][3].has_value());
  EXPECT_EQ(r->rows[1][1].value_or("NULL"), "[]");
  EXPECT_FALSE(r->rows[1][2].has_value());
  EXPECT_EQ(r->rows[1][3].value_or("NULL"), "[3]");
  EXPECT_EQ(r->types[1], "LIST");
}

TEST_F(DuckDbWarehouseTest, AddedFieldBecomesAColumnAndSurvivesReopen) {
  {
    Config c = MakeConfig();
    auto w = DuckDbWarehouse::Open(path_);
    Status prepared = (*w)->Prepare(c);
    ASSERT_TRUE(prepared.ok()) << prepared.ToString();
    ASSERT_EQ(*(*w)->LoadBatch(MakeBatch(c.streams[0], 0, {R"({"ts":"2015-01-01T12:00:00Z","n":5})"}), "f"),
              LoadOutcome::kLoaded);
    EXPECT_EQ(Q(**w, "SELECT _extra->>'n' FROM raw_ev"), "5");
  }
  Config c2 = MakeConfig("      n: int64\n");
  auto w = DuckDbWarehouse::Open(path_);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE((*w)->Prepare(c2).ok());
  ASSERT_EQ(*(*w)->LoadBatch(MakeBatch(c2.streams[0], 1, {R"({"ts":"2015-01-01T12:00:00Z","n":6})"}), "f"),
            LoadOutcome::kLoaded);
  EXPECT_EQ(Q(**w, "SELECT string_agg(coalesce(n::VARCHAR, 'null'), ',' ORDER BY _offset) FROM raw_ev"), "null,6");
}

TEST_F(DuckDbWarehouseTest, ReplaySkipsKnownAndOverlappingBatchesAndNeverMovesCheckpointsBack) {
  Config c = MakeConfig();
  auto w = OpenPrepared(c);
  ASSERT_NE(w, nullptr);
  Warehouse& wh = *w;
  ASSERT_EQ(*wh.LoadBatch(MakeBatch(c.streams[0], 10, {R"({"ts":"2015-01-01T12:00:00Z","kind":"b"})"}), "f"),
            LoadOutcome::kLoaded);
  // An older batch (deleted from the warehouse, still in landing) loads despite the checkpoint at 11...
  Batch old = MakeBatch(c.streams[0], 0, {R"({"ts":"2015-01-01T12:00:00Z","kind":"a"})"});
  ASSERT_EQ(*wh.ReplayBatch(old, "f"), LoadOutcome::kLoaded);
  // ...which stays at 11.
  EXPECT_EQ(Q(wh, "SELECT next_offset FROM _sluice_checkpoints WHERE source = 'src'"), "11");
  EXPECT_EQ(*wh.ReplayBatch(old, "f"), LoadOutcome::kDuplicate);
  // A stale batch left in landing, covering offsets 9..10, overlaps the batch at 10: skipped.
  Batch stale = MakeBatch(
      c.streams[0], 9, {R"({"ts":"2015-01-01T12:00:00Z","kind":"s"})", R"({"ts":"2015-01-01T12:00:00Z","kind":"s"})"});
  EXPECT_EQ(*wh.ReplayBatch(stale, "f"), LoadOutcome::kStale);
  // A newer one advances the checkpoint.
  ASSERT_EQ(*wh.ReplayBatch(MakeBatch(c.streams[0], 20, {R"({"ts":"2015-01-01T12:00:00Z","kind":"c"})"}), "f"),
            LoadOutcome::kLoaded);
  EXPECT_EQ(Q(wh, "SELECT next_offset FROM _sluice_checkpoints WHERE source = 'src'"), "21");
  EXPECT_EQ(Q(wh, "SELECT string_agg(kind, ',' ORDER BY _offset) FROM raw_ev"), "a,b,c");
}

// A batch over several partitions (Kafka) writes all their checkpoints in one statement; a replayed one moves
// only those it is ahead of.
TEST_F(DuckDbWarehouseTest, EveryPartitionOfABatchGetsItsCheckpointAndReplaysOnlyMoveThemForward) {
  Config c = MakeConfig();
  auto w = OpenPrepared(c);
  ASSERT_NE(w, nullptr);
  auto batch = [&](const std::vector<std::pair<std::string, int64_t>>& positions) {
    Batch b(&c.streams[0]);
    b.source = "kafka";
    RecordParser parser(&c.streams[0]);
    for (const auto& [partition, offset] : positions)
      parser.Parse(R"({"ts":"2015-01-01T12:00:00Z","kind":"k"})", b.PartitionIndex(partition), offset, offset + 1, b);
    return b;
  };
  const std::string checkpoints =
      "SELECT string_agg(\"partition\" || '@' || next_offset, ',' ORDER BY \"partition\") FROM "
      "_sluice_checkpoints WHERE source = 'kafka'";
  ASSERT_EQ(*w->LoadBatch(batch({{"t/0", 10}, {"t/1", 20}, {"t/2", 30}}), "f"), LoadOutcome::kLoaded);
  EXPECT_EQ(Q(*w, checkpoints), "t/0@11,t/1@21,t/2@31");
  ASSERT_EQ(*w->LoadBatch(batch({{"t/0", 11}, {"t/2", 31}}), "f"), LoadOutcome::kLoaded);
  EXPECT_EQ(Q(*w, checkpoints), "t/0@12,t/1@21,t/2@32");
  // Replayed from landing: behind on t/0, ahead on t/1, new on t/3.
  ASSERT_EQ(*w->ReplayBatch(batch({{"t/0", 5}, {"t/1", 40}, {"t/3", 7}}), "f"), LoadOutcome::kLoaded);
  EXPECT_EQ(Q(*w, checkpoints), "t/0@12,t/1@41,t/2@32,t/3@8");
}

// Raw keeps provenance as integers (issue 13); the origin view gives back the strings a user asks for.
TEST_F(DuckDbWarehouseTest, OriginViewTellsEachRowsSourcePartitionBatchAndLandedFile) {
  Config c = MakeConfig();
  auto w = OpenPrepared(c);
  ASSERT_NE(w, nullptr);
  const StreamConfig& s = c.streams[0];
  Batch b(&s);
  b.source = "kafka";
  RecordParser p(&s);
  // Partitions met in the order p7, p10, p2: raw stores each one's position in name order (p10, p2, p7).
  const std::vector<std::pair<std::string, std::string>> records = {
      {"p7", "a"}, {"p10", "b"}, {"p2", "c"}, {"p7", "d"}};
  int64_t off = 100;
  for (const auto& [part, kind] : records) {
    p.Parse(R"({"ts":"2015-01-01T12:00:0)" + std::to_string(off - 100) + R"(Z","kind":")" + kind + R"("})",
            b.PartitionIndex(part), off, off + 1, b);
    ++off;
  }
  ASSERT_EQ(*w->LoadBatch(b, "landing/ev/dt=2015-01-01/k.ndjson.zst"), LoadOutcome::kLoaded);
  Warehouse& wh = *w;
  EXPECT_EQ(Q(wh,
              "SELECT string_agg(column_name, ',') FROM duckdb_columns() WHERE table_name = 'raw_ev' AND "
              "column_name LIKE '\\_%' ESCAPE '\\'"),
            "_extra,_batch,_partition_index,_offset")
      << "no provenance strings on raw's rows";
  EXPECT_EQ(Q(wh, "SELECT string_agg(kind || ':' || _partition_index, ',' ORDER BY _offset) FROM raw_ev"),
            "a:2,b:0,c:1,d:2");
  EXPECT_EQ(Q(wh,
              "SELECT string_agg(kind || '@' || _source || '/' || _partition || '/' || _offset, ',' "
              "ORDER BY _offset) FROM raw_ev_origin"),
            "a@kafka/p7/100,b@kafka/p10/101,c@kafka/p2/102,d@kafka/p7/103");
  EXPECT_EQ(Q(wh, "SELECT DISTINCT _batch_id || ' ' || _landed_file FROM raw_ev_origin"),
            b.id + " landing/ev/dt=2015-01-01/k.ndjson.zst");
  EXPECT_EQ(Q(wh,
              "SELECT count(*) FROM raw_ev r JOIN _sluice_batches l ON l.batch_key = r._batch "
              "WHERE l.batch_id = " +
                  QuoteLiteral(b.id)),
            "4");
}

// A warehouse made before issue 13 stored _batch_id, _source and _partition on every row; opening it moves raw
// to the integer layout once, keeping every row, its order and what the origin view tells about it.
TEST_F(DuckDbWarehouseTest, RawWithProvenanceStringsMovesToTheIntegerLayoutOnOpen) {
  {
    std::filesystem::create_directories(dir_);
    auto old = DuckDb::Open(path_);
    ASSERT_TRUE(old.ok()) << old.status().ToString();
    ASSERT_TRUE((*old)
                    ->Execute(R"sql(
CREATE SEQUENCE _sluice_batch_seq;
CREATE TABLE _sluice_batches (batch_id VARCHAR PRIMARY KEY, seq BIGINT NOT NULL, stream VARCHAR NOT NULL,
  source VARCHAR NOT NULL, partitions JSON, file VARCHAR, rows BIGINT, dead_rows BIGINT, late_rows BIGINT,
  event_hours TIMESTAMP[], min_event_time TIMESTAMP, max_event_time TIMESTAMP, received_at TIMESTAMP,
  loaded_at TIMESTAMP);
CREATE TABLE raw_ev (ts TIMESTAMP, kind VARCHAR, actor STRUCT(id BIGINT, login VARCHAR), tags VARCHAR[],
  event_date DATE, _extra JSON, _batch_id VARCHAR, _source VARCHAR, _partition VARCHAR, _offset BIGINT);
INSERT INTO _sluice_batches VALUES
  ('f-a-0', nextval('_sluice_batch_seq'), 'ev', 'f', '{"a":{"first":0,"next":2,"records":2},"b":{"first":5,"next":6,"records":1}}',
   'landing/1.zst', 3, 0, 0, [], NULL, NULL, NULL, NULL),
  ('f-a-2', nextval('_sluice_batch_seq'), 'ev', 'f', '{"a":{"first":2,"next":3,"records":1}}',
   'landing/2.zst', 1, 0, 0, [], NULL, NULL, NULL, NULL);
INSERT INTO raw_ev (ts, kind, _batch_id, _source, _partition, _offset) VALUES
  ('2015-01-01 12:00:00', 'x', 'f-a-0', 'f', 'b', 5),
  ('2015-01-01 12:00:01', 'y', 'f-a-0', 'f', 'a', 1),
  ('2015-01-01 12:00:02', 'z', 'f-a-0', 'f', 'a', 0),
  ('2015-01-01 12:00:03', 'w', 'f-a-2', 'f', 'a', 2);
)sql")
                    .ok());
  }
  Config c = MakeConfig();
  auto w = OpenPrepared(c);
  ASSERT_NE(w, nullptr);
  Warehouse& wh = *w;
  EXPECT_EQ(Q(wh,
              "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'raw_ev' AND column_name IN "
              "('_batch_id', '_source', '_partition')"),
            "0");
  EXPECT_EQ(Q(wh,
              "SELECT string_agg(kind || '@' || _source || '/' || _partition || '/' || _offset || '/' || "
              "_batch_id || '/' || _landed_file, ',' ORDER BY ts) FROM raw_ev_origin"),
            "x@f/b/5/f-a-0/landing/1.zst,y@f/a/1/f-a-0/landing/1.zst,z@f/a/0/f-a-0/landing/1.zst,"
            "w@f/a/2/f-a-2/landing/2.zst")
      << "every row with its provenance";
  EXPECT_EQ(Q(wh, "SELECT string_agg(kind, ',') FROM raw_ev"), "x,y,z,w") << "in its old physical order";
  EXPECT_EQ(Q(wh, "SELECT count(*) FROM _sluice_batches WHERE batch_key IS NULL OR part_names IS NULL"), "0");
  EXPECT_EQ(Q(wh,
              "SELECT count(*) FROM duckdb_constraints() WHERE table_name = '_sluice_batches' AND "
              "constraint_type = 'PRIMARY KEY'"),
            "0")
      << "the ledger moved to its table without an index";

  // New batches load beside the moved rows, and opening again moves nothing.
  Batch b = MakeBatch(c.streams[0], 0, {R"({"ts":"2015-01-02T00:00:00Z","kind":"n"})"});
  ASSERT_EQ(*wh.LoadBatch(b, "landing/3.zst"), LoadOutcome::kLoaded);
  w.reset();
  auto again = OpenPrepared(c);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(Q(*again, "SELECT string_agg(kind || '@' || _partition, ',' ORDER BY ts) FROM raw_ev_origin"),
            "x@b,y@a,z@a,w@a,n@p0");
}

// The ledger gains a row per batch, ~80 a second under HTTP load. Rows a checkpoint has written must stay where
// they are: when DuckDB rewrote the ledger whole at every checkpoint (it does so for a table with an index), the
// checkpoints slowed as the ledger grew, and the HTTP p99 with them.
TEST_F(DuckDbWarehouseTest, CheckpointsLeaveTheLedgerRowsTheyWroteAlone) {
  Config c = MakeConfig();
  auto w = OpenPrepared(c);
  ASSERT_NE(w, nullptr);
  const std::string first_group_blocks =
      "SELECT string_agg(block_id::VARCHAR || '@' || block_offset, ',' ORDER BY column_id, segment_id) FROM "
      "pragma_storage_info('_sluice_batches') WHERE row_group_id = 0 AND persistent";
  // DuckDB's vacuum merges row groups freely below a vector (2,048 rows); past it, only once the rows after a
  // row group reach twice its size, so a row is rewritten a logarithmic number of times at most. So the test
  // starts from a ledger of 2,100 batches (written directly: loading them takes seconds).
  ASSERT_TRUE(w->Query("INSERT INTO _sluice_batches (batch_id, seq, stream, source, partitions, rows) SELECT "
                       "'old-' || i, nextval('_sluice_batch_seq'), 'ev', 'old', '{}', 1 FROM range(2100) t(i)")
                  .ok());
  ASSERT_TRUE(w->Query("CHECKPOINT").ok());
  const std::string written = Q(*w, first_group_blocks);
  ASSERT_FALSE(written.empty());
  for (int64_t offset = 0; offset < 5; ++offset) {
    Batch b = MakeBatch(c.streams[0], offset, {R"({"ts":"2015-01-01T12:00:00Z","kind":"k"})"});
    ASSERT_EQ(*w->LoadBatch(b, "f"), LoadOutcome::kLoaded);
  }
  ASSERT_TRUE(w->Query("CHECKPOINT").ok());
  EXPECT_EQ(Q(*w, first_group_blocks), written) << "the first checkpoint's ledger rows were written again";
  EXPECT_EQ(Q(*w, "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('_sluice_batches')"), "2");
  EXPECT_EQ(Q(*w, "SELECT count(*) FROM _sluice_batches"), "2105");

  // Without the index, a batch loaded again is still known as one.
  Batch again = MakeBatch(c.streams[0], 3, {R"({"ts":"2015-01-01T12:00:00Z","kind":"k"})"});
  EXPECT_EQ(*w->LoadBatch(again, "f"), LoadOutcome::kDuplicate);
  EXPECT_EQ(Q(*w, "SELECT count(*) FROM _sluice_batches"), "2105");
}

// A steady stream of small batches (HTTP at high rates) must not make DuckDB's checkpoints rewrite rows already
// on disk: every checkpoint starts a new row group, and vacuum merges partial ones that fit in fewer. The loader
// therefore checkpoints once raw holds 3/4 of a row group or more (right after the commit that gets there, idle
// or not), so every closed row group is too big to merge, and the rows stay where they were first written.
TEST_F(DuckDbWarehouseTest, CheckpointsLeaveRowGroupsTooFullToMerge) {
  Config c = MakeConfig();
  auto w = OpenPrepared(c);
  ASSERT_NE(w, nullptr);
  constexpr int kBatchRows = 3'000;
  int64_t offset = 0;
  for (int i = 0; i < 150; ++i) {
    std::vector<std::string> records;
    for (int r = 0; r < kBatchRows; ++r)
      records.push_back(R"({"ts":"2015-01-01T12:00:00Z","kind":"k)" + std::to_string(offset + r) + R"("})");
    ASSERT_EQ(*w->LoadBatch(MakeBatch(c.streams[0], offset, records), "f"), LoadOutcome::kLoaded);
    offset += kBatchRows;
  }
  // Rows per row group, from the first column's segments.
  auto groups = w->Query(
      "SELECT row_group_id, sum(count) FROM pragma_storage_info('raw_ev') WHERE column_id = 0 AND "
      "column_path = '[0]' GROUP BY ALL ORDER BY row_group_id");
  ASSERT_TRUE(groups.ok()) << groups.status().ToString();
  ASSERT_GE(groups->rows.size(), 4u) << "450,000 rows make four row groups or more";
  int64_t total = 0;
  for (size_t g = 0; g < groups->rows.size(); ++g) {
    const int64_t rows = std::stoll(*groups->rows[g][1]);
    total += rows;
    if (g + 1 < groups->rows.size()) EXPECT_GT(rows, 122'880 * 3 / 4) << "row group " << g << " could be merged";
  }
  EXPECT_EQ(total, offset);
  EXPECT_EQ(Q(*w, "SELECT count(DISTINCT kind) FROM raw_ev"), std::to_string(offset));
}

}  // namespace
}  // namespace sluice
