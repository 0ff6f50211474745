// ClickHouseWarehouse on one real clickhouse-server (plain MergeTree, no ZooKeeper): loading, the fence,
// schema evolution, recovery after a load cut short, the collectors' tables. Each test has its own database.
#include "warehouse/clickhouse/clickhouse_warehouse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/record_parser.h"
#include "landing/landing_store.h"
#include "landing/s3rver_test_server.h"
#include "warehouse/clickhouse/clickhouse_rows.h"
#include "warehouse/clickhouse/clickhouse_test_util.h"

namespace sluice {
namespace {

using testing::Events;
using ::testing::HasSubstr;
using testing::MakeBatch;
using testing::MakeConfig;
using testing::Scalar;

class ClickHouseSingle : public testing::SingleServerSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    config_ = MakeConfig(landing_.path.string());
    auto w = Open();
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    w_ = std::move(*w);
    Status st = w_->Prepare(config_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  // A second warehouse on the same database: what a restarted sluice opens.
  Result<std::unique_ptr<ClickHouseWarehouse>> Open() { return testing::OpenOn(*cluster_, 0, testing::TestDatabase()); }
  std::string Q(const std::string& sql) { return Scalar(*w_, sql); }
  const StreamConfig& stream() { return config_.streams[0]; }

  testing::TempDir landing_;
  Config config_;
  std::unique_ptr<ClickHouseWarehouse> w_;
};

TEST_F(ClickHouseSingle, LoadsRowsDeadLettersAndALedgerRowCarryingTheCheckpoints) {
  auto b = MakeBatch(stream(), 10,
                     {R"({"ts":"2026-11-01T13:00:00Z","kind":"b","actor":{"id":2,"login":"y"},"tags":["t1","t2"]})",
                      R"({"ts":"2026-11-01T12:00:00.250Z","kind":"a","n":5,"more":true})", "not json"});
  auto loaded = w_->LoadBatch(*b, "landing/x.ndjson.zst");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, LoadOutcome::kLoaded);
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "2");
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(concat(kind, ':', toString(_offset), ':', toString(event_date), "
              "':', toString(ts))), ',') FROM (SELECT * FROM raw_ev ORDER BY ts)"),
            "a:11:2026-11-01:2026-11-01 12:00:00,b:10:2026-11-01:2026-11-01 13:00:00");
  // Nested values: a struct is a Tuple, a list an Array; absent fields are NULL; undeclared ones in _extra.
  EXPECT_EQ(Q("SELECT tupleElement(actor, 2) FROM raw_ev WHERE kind = 'b'"), "y");
  EXPECT_EQ(Q("SELECT tags[2] FROM raw_ev WHERE kind = 'b'"), "t2");
  EXPECT_EQ(Q("SELECT isNull(n) FROM raw_ev WHERE kind = 'b'"), "1");
  EXPECT_EQ(Q("SELECT isNull(tupleElement(actor, 1)) FROM raw_ev WHERE kind = 'a'"), "1");
  EXPECT_EQ(Q("SELECT _extra FROM raw_ev WHERE kind = 'a'"), R"({"more":true})");
  EXPECT_EQ(Q("SELECT concat(_source, '/', _partition, '/', _batch_id) FROM raw_ev_origin WHERE kind = 'a'"),
            "ev.http/p0/" + b->id);
  EXPECT_EQ(Q("SELECT concat(toString(`offset`), ' ', raw, ' ', toString(raw_length)) FROM _sluice_dead_letters"),
            "12 not json 8");
  EXPECT_EQ(Q("SELECT concat(toString(rows), ' ', toString(dead_rows), ' ', file) FROM _sluice_batches FINAL"),
            "2 1 landing/x.ndjson.zst");
  auto cps = w_->Checkpoints("ev.http");
  ASSERT_TRUE(cps.ok());
  EXPECT_EQ(*cps, (std::map<std::string, int64_t>{{"p0", 13}}));
  auto newest = w_->NewestEventTime("ev");
  ASSERT_TRUE(newest.ok()) << newest.status().ToString();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ(**newest, 1'793'538'000'000'000);  // 2026-11-01T13:00:00Z
  auto none = w_->NewestEventTime("other");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
}

TEST_F(ClickHouseSingle, ReloadingALoadedBatchIsADuplicateAndWritesNothing) {
  auto b = MakeBatch(stream(), 0, Events(0, 100));
  ASSERT_EQ(*w_->LoadBatch(*b, "f"), LoadOutcome::kLoaded);
  auto again = w_->LoadBatch(*b, "f");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, LoadOutcome::kDuplicate);
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "100");
  EXPECT_EQ(Q("SELECT count() FROM _sluice_batches"), "1");
}

TEST_F(ClickHouseSingle, ABatchBehindTheCheckpointOrCutDifferentlyIsStale) {
  ASSERT_EQ(*w_->LoadBatch(*MakeBatch(stream(), 0, Events(0, 10)), "f"), LoadOutcome::kLoaded);
  // Another consumer's batch from offset 5: its records 5..9 are committed already.
  auto behind = w_->LoadBatch(*MakeBatch(stream(), 5, Events(5, 10)), "f");
  ASSERT_TRUE(behind.ok());
  EXPECT_EQ(*behind, LoadOutcome::kStale);
  // The same first position cut differently: same id, other ranges.
  auto recut = w_->LoadBatch(*MakeBatch(stream(), 0, Events(0, 7)), "f");
  ASSERT_TRUE(recut.ok());
  EXPECT_EQ(*recut, LoadOutcome::kStale);
  EXPECT_EQ(*w_->LoadBatch(*MakeBatch(stream(), 10, Events(10, 5)), "f"), LoadOutcome::kLoaded);
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "15");
  EXPECT_EQ(Q("SELECT uniqExact(n) FROM raw_ev"), "15");
  EXPECT_EQ(w_->Checkpoints("ev.http")->at("p0"), 15);
}

TEST_F(ClickHouseSingle, ReplayLoadsAnOldBatchWithoutMovingCheckpointsBack) {
  ASSERT_EQ(*w_->LoadBatch(*MakeBatch(stream(), 100, Events(100, 10)), "f"), LoadOutcome::kLoaded);
  auto old = MakeBatch(stream(), 0, Events(0, 10));
  EXPECT_EQ(*w_->ReplayBatch(*old, "f"), LoadOutcome::kLoaded);
  EXPECT_EQ(*w_->ReplayBatch(*old, "f"), LoadOutcome::kDuplicate);
  // Overlapping a loaded batch's positions under another id: its records are in already.
  EXPECT_EQ(*w_->ReplayBatch(*MakeBatch(stream(), 105, Events(105, 10)), "f"), LoadOutcome::kStale);
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "20");
  EXPECT_EQ(w_->Checkpoints("ev.http")->at("p0"), 110);
}

TEST_F(ClickHouseSingle, FieldsAddedToTheConfigBecomeColumnsAndRemovedOnesStay) {
  ASSERT_EQ(*w_->LoadBatch(*MakeBatch(stream(), 0, Events(0, 3)), "f"), LoadOutcome::kLoaded);
  // A new scalar, a new list of structs (Nested), and `kind` no longer declared.
  auto evolved = ParseConfig("landing: { path: " + landing_.path.string() + R"( }
streams:
  ev:
    event_time: ts
    schema: { ts: timestamp, n: int64, actor: { id: int64, login: string }, tags: [string], score: float64,
              items: [ { sku: string, qty: int64 } ] }
    sources: [ { kind: http } ]
)",
                             "t.yaml");
  ASSERT_TRUE(evolved.ok()) << evolved.status().ToString();
  Status st = w_->Prepare(*evolved);
  ASSERT_TRUE(st.ok()) << st.ToString();
  // 18.16 has no ADD COLUMN IF NOT EXISTS: preparing again must not fail on existing columns.
  st = w_->Prepare(*evolved);
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto b = MakeBatch(evolved->streams[0], 3,
                     {R"({"ts":"2026-11-02T00:00:00Z","n":9,"score":1.5,"items":[{"sku":"x","qty":2},{"sku":"y"}],
                         "kind":"now-extra"})"});
  auto loaded = w_->LoadBatch(*b, "f");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(Q("SELECT count() FROM raw_ev WHERE isNull(score)"), "3");  // old rows read NULL
  EXPECT_EQ(Q("SELECT concat(toString(score), ' ', items.sku[1], ',', items.sku[2], ' ', toString(items.qty[1]), "
              "' ', toString(isNull(items.qty[2]))) FROM raw_ev WHERE n = 9"),
            "1.5 x,y 2 1");
  // `kind` left the config: its column stays (NULL now), the value is kept in _extra.
  EXPECT_EQ(Q("SELECT concat(toString(isNull(kind)), ' ', _extra) FROM raw_ev WHERE n = 9"),
            R"(1 {"kind":"now-extra"})");
}

// Native (what loads send) and RowBinary (the fallback) store the same rows: every kind of value, NULLs,
// several partitions, and columns whose field left the config. And the blocks arrive in the table's order,
// so the server skips its sort.
TEST_F(ClickHouseSingle, NativeAndRowBinaryBlocksStoreTheSameRowsAndArriveSorted) {
  auto rich = ParseConfig("landing: { path: " + landing_.path.string() + R"( }
streams:
  rich:
    event_time: ts
    schema: { ts: timestamp, n: int64, actor: { id: int64, login: string, geo: { cc: string, at: timestamp } },
              tags: [string], score: float64, ok: bool, day: date, doc: json, grid: [[int64]],
              items: [ { sku: string, qty: int64, parts: [string] } ] }
    sources: [ { kind: http } ]
)",
                          "t.yaml");
  ASSERT_TRUE(rich.ok()) << rich.status().ToString();
  ASSERT_TRUE(w_->Prepare(*rich).ok());
  // Columns no field fills (added by hand, or whose field left the config).
  ASSERT_TRUE(
      w_->Execute("ALTER TABLE raw_rich ADD COLUMN gone_tuple Tuple(Nullable(String), Array(Int32), Date)").ok());
  ASSERT_TRUE(w_->Execute("ALTER TABLE raw_rich ADD COLUMN gone_u16 UInt16").ok());
  ASSERT_TRUE(w_->Prepare(*rich).ok());
  const StreamConfig& s = rich->streams[0];
  std::vector<std::string> records = {
      R"({"ts":"2026-11-02T10:00:00.700Z","n":-5,"actor":{"id":1,"login":"é\t\"x","geo":{"cc":"FR","at":"2026-11-02T09:00:00Z"}},"tags":["a",null,""],"score":-0.25,"ok":true,"day":"2026-11-02","doc":{"k":[1,2]},"grid":[[1,2],[],null,[3]],"items":[{"sku":"s1","qty":2,"parts":["p","q"]},{"sku":null}],"more":1})",
      R"({"ts":"2026-11-02T10:00:00.100Z"})",
      R"({"ts":"2026-11-01T23:59:59Z","actor":null,"tags":null,"items":[],"ok":false})",
      R"({"ts":"2026-11-02T10:00:00.200Z","n":7,"actor":{"geo":null},"doc":"text","items":null})"};
  std::vector<std::string> long_one = {R"({"ts":"2026-11-02T11:00:00Z","actor":{"login":")" + std::string(300, 'z') +
                                       R"("}})"};
  auto b = MakeBatch(s, 0, records, "p1", "rich.http");
  auto more = MakeBatch(s, 0, long_one, "p0", "rich.http");  // a second partition: rows of both in one batch
  for (size_t i = 0; i < more->rows(); ++i) {
    RecordParser p(&s);
    p.Parse(long_one[i], b->PartitionIndex("p0"), 0, 1, *b);
  }
  ASSERT_EQ(b->rows(), 5u);
  // Parts written that the server had to sort (the ledger row's is trivially sorted).
  auto unsorted_parts = [&]() {
    return std::stoll(
        Q("SELECT toString(sumIf(value, event = 'MergeTreeDataWriterBlocks') - sumIf(value, event = "
          "'MergeTreeDataWriterBlocksAlreadySorted')) FROM system.events"));
  };
  const int64_t unsorted_before = unsorted_parts();
  auto loaded = w_->LoadBatch(*b, "f");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(unsorted_parts(), unsorted_before);

  // The same batch as RowBinary into a copy of the table.
  ASSERT_TRUE(w_->Execute("CREATE TABLE raw_copy AS raw_rich").ok());
  auto columns = w_->Query(
      "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = "
      "'raw_rich'");
  ASSERT_TRUE(columns.ok());
  std::vector<RawColumn> raw;
  for (const auto& row : columns->rows) {
    RawColumn c{*row[0], *row[1]};
    for (const auto& want : RawColumnsFor(s))
      if (want.name == c.name) c = want;
    raw.push_back(c);
  }
  auto blocks = EncodeRawBlocks(*b, raw, kMaxBlockRows, BlockFormat::kRowBinary);
  ASSERT_TRUE(blocks.ok()) << blocks.status().ToString();
  for (const auto& block : *blocks)
    ASSERT_TRUE(w_->client().Insert(InsertSql("raw_copy", raw, BlockFormat::kRowBinary), block.data).ok());
  auto rows = [&](const std::string& table) {
    auto r = w_->client().Send({.sql = "SELECT * FROM " + table + " ORDER BY _partition_index, _offset FORMAT TSV"});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  };
  const std::string native = rows("raw_rich");
  EXPECT_EQ(native, rows("raw_copy"));
  EXPECT_THAT(native, HasSubstr(std::string(300, 'z')));
  EXPECT_THAT(native, HasSubstr("[[1,2],[],[],[3]]"));
  EXPECT_EQ(Q("SELECT concat(toString(gone_tuple), ' ', toString(gone_u16)) FROM raw_rich WHERE n = 7"),
            "(NULL,[],'0000-00-00') 0");
}

TEST_F(ClickHouseSingle, AFieldThatChangesTypeIsRefusedAtPrepare) {
  auto changed = ParseConfig(
      "landing: { path: /tmp }\nstreams:\n  ev:\n    event_time: ts\n    schema: { ts: "
      "timestamp, n: string }\n    sources: [ { kind: http } ]\n",
      "t.yaml");
  ASSERT_TRUE(changed.ok());
  Status st = w_->Prepare(*changed);
  EXPECT_TRUE(st.IsInvalid()) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("column n of raw_ev is Nullable(Int64)"));
}

// The crash between the rows and the ledger row: simulated by a fault hook that stops the load there, then
// a new warehouse (a restarted sluice) recovers from landing.
TEST_F(ClickHouseSingle, ALoadCutBeforeItsLedgerRowIsCompletedFromLandingWithEveryEventOnce) {
  LandingStore landing(config_.landing_path);
  // Two event days: two blocks; the crash comes after the first block, then after both.
  auto a = MakeBatch(stream(), 0, Events(0, 2000, 1000));
  auto b = MakeBatch(stream(), 2000, Events(2000, 1000, 1000));
  ASSERT_TRUE(landing.Land(*a).ok());
  ASSERT_TRUE(landing.Land(*b).ok());
  int blocks = 0;
  w_->SetFaultHook([&](std::string_view point) {
    if (point == "rows" && ++blocks == 1) return Status::Internal("crash after the first block");
    return Status::Ok();
  });
  EXPECT_FALSE(w_->LoadBatch(*a, "f").ok());
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "1000");
  w_->SetFaultHook([](std::string_view point) {
    return point == "ledger" ? Status::Internal("crash before the ledger") : Status::Ok();
  });
  // (In a real crash b would not start before a; here it shows a batch whose rows all arrived.)
  EXPECT_FALSE(w_->LoadBatch(*b, "f").ok());
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "2000");
  EXPECT_EQ(Q("SELECT count() FROM _sluice_batches"), "0");

  auto restarted = Open();
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE((*restarted)->Prepare(config_).ok());
  Status st = (*restarted)->RecoverFromLanding(config_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "3000");
  EXPECT_EQ(Q("SELECT uniqExact(n) FROM raw_ev"), "3000");
  EXPECT_EQ(Q("SELECT count() FROM _sluice_batches FINAL"), "2");
  EXPECT_EQ((*restarted)->Checkpoints("ev.http")->at("p0"), 3000);
  // Recovering again finds nothing to do.
  st = (*restarted)->RecoverFromLanding(config_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "3000");
}

// The same recovery when landing is an S3 bucket (s3rver on loopback): the restarted warehouse lists and
// rebuilds the batch from the bucket, and its ledger row names the object.
TEST_F(ClickHouseSingle, ALoadCutBeforeItsLedgerRowIsCompletedFromAnS3Landing) {
  testing::S3rverProcess s3rver;
  Status started = s3rver.Start(SLUICE_SOURCE_DIR, {"landing"});
  ASSERT_TRUE(started.ok()) << started.ToString();
  setenv("SLUICE_TEST_CH_S3_KEY", "S3RVER", 1);
  setenv("SLUICE_TEST_CH_S3_SECRET", "S3RVER", 1);
  auto config = ParseConfig("landing: { kind: s3, endpoint: '" + s3rver.endpoint() +
                                "', bucket: landing, prefix: ch, access_key_env: SLUICE_TEST_CH_S3_KEY, "
                                "secret_key_env: SLUICE_TEST_CH_S3_SECRET }\n" +
                                R"(streams:
  ev:
    event_time: ts
    schema:
      ts: timestamp
      kind: string
      n: int64
      actor: { id: int64, login: string }
      tags: [string]
    sources: [ { kind: http } ]
)",
                            "t.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  LandingStore landing = OpenLandingStore(*config);
  auto a = MakeBatch(config->streams[0], 0, Events(0, 1500, 1000));
  auto landed = landing.Land(*a);
  ASSERT_TRUE(landed.ok()) << landed.status().ToString();
  ASSERT_EQ(landed->rfind("s3://landing/ch/ev/dt=", 0), 0u) << *landed;
  w_->SetFaultHook([](std::string_view point) {
    return point == "ledger" ? Status::Internal("crash before the ledger") : Status::Ok();
  });
  EXPECT_FALSE(w_->LoadBatch(*a, *landed).ok());
  EXPECT_EQ(Q("SELECT count() FROM _sluice_batches"), "0");

  auto restarted = Open();
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE((*restarted)->Prepare(*config).ok());
  Status st = (*restarted)->RecoverFromLanding(*config);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "1500");
  EXPECT_EQ(Q("SELECT uniqExact(n) FROM raw_ev"), "1500");
  EXPECT_EQ(Q("SELECT any(file) FROM _sluice_batches FINAL"), *landed);
  EXPECT_EQ((*restarted)->Checkpoints("ev.http")->at("p0"), 1500);
}

TEST_F(ClickHouseSingle, RecoveryLeavesALandedStaleBatchUnloaded) {
  LandingStore landing(config_.landing_path);
  ASSERT_EQ(*w_->LoadBatch(*MakeBatch(stream(), 0, Events(0, 10)), "f"), LoadOutcome::kLoaded);
  // Landed, then refused live: another consumer had committed offsets 0..9.
  auto stale = MakeBatch(stream(), 5, Events(5, 10));
  ASSERT_TRUE(landing.Land(*stale).ok());
  ASSERT_EQ(*w_->LoadBatch(*stale, "f"), LoadOutcome::kStale);
  Status st = w_->RecoverFromLanding(config_);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Q("SELECT count() FROM raw_ev"), "10");
}

TEST_F(ClickHouseSingle, RunsTableFromBeforeNotesGainsTheColumnAtOpenAndKeepsItsRuns) {
  RunRecord old;
  old.collector = "gh";
  old.run_id = "gh/old";
  old.status = RunStatus::kSucceeded;
  old.rows = 7;
  ASSERT_TRUE(w_->PutRun(old).ok());
  // The table as the previous release created it.
  ASSERT_TRUE(w_->Execute("ALTER TABLE _sluice_runs DROP COLUMN notes").ok());
  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  RunRecord partial = old;
  partial.run_id = "gh/new";
  partial.started = old.started + std::chrono::seconds(1);
  partial.status = RunStatus::kPartial;
  partial.notes = R"({"failed":[{"part":"acme/gone"}]})";
  ASSERT_TRUE((*reopened)->PutRun(partial).ok());
  auto runs = (*reopened)->Runs("gh");
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].rows, 7);
  EXPECT_EQ((*runs)[0].notes, "");
  EXPECT_EQ((*runs)[1].status, RunStatus::kPartial);
  EXPECT_EQ((*runs)[1].notes, partial.notes);
}

// A raw table made before issue 13 stores _batch_id, _source and _partition on every row. It keeps that layout
// (no _batch column is added beside it), new batches fill it the same way, a reload is still a duplicate, and the
// origin view adds the landed file.
TEST_F(ClickHouseSingle, RawFromBeforeIntegerProvenanceKeepsItsLayoutAndLoadsExactlyOnce) {
  for (const char* sql :
       {"DROP TABLE raw_ev_origin", "DROP TABLE raw_ev", "ALTER TABLE _sluice_batches DROP COLUMN batch_key",
        "CREATE TABLE raw_ev (ts DateTime, kind Nullable(String), n Nullable(Int64), actor "
        "Tuple(Nullable(Int64), Nullable(String)), tags Array(Nullable(String)), event_date Date, "
        "_extra Nullable(String), _batch_id String, _source String, _partition String, _offset Int64) "
        "ENGINE = MergeTree() PARTITION BY event_date ORDER BY (ts, _partition, _offset)",
        "INSERT INTO raw_ev (ts, kind, event_date, _batch_id, _source, _partition, _offset) VALUES "
        "('2026-11-01 10:00:00', 'old', '2026-11-01', 'ev.http-p0-0', 'ev.http', 'p0', 0)",
        "INSERT INTO _sluice_batches (batch_id, stream, source, part_names, part_first, part_next, part_records, "
        "file, rows) VALUES ('ev.http-p0-0', 'ev', 'ev.http', ['p0'], [0], [1], [1], 'landing/old.zst', 1)"})
    ASSERT_TRUE(w_->Execute(sql).ok()) << sql;
  auto reopened = Open();
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  w_ = std::move(*reopened);
  Status prepared = w_->Prepare(config_);
  ASSERT_TRUE(prepared.ok()) << prepared.ToString();
  auto b = MakeBatch(stream(), 1, {R"({"ts":"2026-11-01T11:00:00Z","kind":"new"})"}, "p1");
  auto loaded = w_->LoadBatch(*b, "landing/new.zst");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, LoadOutcome::kLoaded);
  auto again = w_->LoadBatch(*b, "landing/new.zst");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, LoadOutcome::kDuplicate);
  EXPECT_EQ(Q("SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'raw_ev' AND "
              "name IN ('_batch', '_partition_index')"),
            "0");
  EXPECT_EQ(Q("SELECT arrayStringConcat(groupArray(concat(kind, '@', _source, '/', _partition, '/', toString(_offset), "
              "'/', _batch_id, '/', _landed_file)), ',') FROM (SELECT * FROM raw_ev_origin ORDER BY ts)"),
            "old@ev.http/p0/0/ev.http-p0-0/landing/old.zst,new@ev.http/p1/1/" + b->id + "/landing/new.zst");
}

TEST_F(ClickHouseSingle, RunsAndTheHttpCacheRoundTripAndReplaceByKey) {
  RunRecord run;
  run.collector = "github";
  run.run_id = "github/1/2";
  run.scheduled = TimePoint(std::chrono::microseconds(1'700'000'000'000'001));
  run.started = TimePoint(std::chrono::microseconds(1'700'000'000'500'000));
  ASSERT_TRUE(w_->PutRun(run).ok());
  run.ended = run.started + std::chrono::seconds(3);
  run.status = RunStatus::kFailed;
  run.error = "boom\ttab";
  run.rows = 7;
  ASSERT_TRUE(w_->PutRun(run).ok());
  auto runs = w_->Runs("github");
  ASSERT_TRUE(runs.ok()) << runs.status().ToString();
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].status, RunStatus::kFailed);
  EXPECT_EQ((*runs)[0].error, "boom\ttab");
  EXPECT_EQ((*runs)[0].scheduled, run.scheduled);
  EXPECT_EQ((*runs)[0].ended, run.ended);
  EXPECT_TRUE(w_->Runs("dockerhub")->empty());

  HttpCacheEntry e{
      "https://api.github.com/x", "\"etag\"", {{"content-type", "application/json"}}, "{\"a\":\"é\\n\"}\n", 1'000};
  ASSERT_TRUE(w_->PutHttpCache(e).ok());
  e.body = "second";
  e.fetched_at_us = 2'000;
  ASSERT_TRUE(w_->PutHttpCache(e).ok());
  auto got = w_->GetHttpCache(e.url);
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->body, "second");
  EXPECT_EQ((*got)->headers, e.headers);
  EXPECT_EQ((*got)->etag, e.etag);
  ASSERT_TRUE(w_->ExpireHttpCache(1'500).ok());
  EXPECT_TRUE(w_->GetHttpCache(e.url)->has_value());
  ASSERT_TRUE(w_->ExpireHttpCache(2'500).ok());
  EXPECT_FALSE(w_->GetHttpCache(e.url)->has_value());
  ASSERT_TRUE(w_->PutHttpCache(e).ok());
  EXPECT_TRUE(w_->GetHttpCache(e.url)->has_value());
  ASSERT_TRUE(w_->DropHttpCache(e.url).ok());
  EXPECT_FALSE(w_->GetHttpCache(e.url)->has_value());
}

TEST_F(ClickHouseSingle, OpenWarehouseReadsTheConfigAndCredentialsFromTheEnvironment) {
  const std::string yaml = "warehouse: { kind: clickhouse, url: " + cluster_->http_url(0) +
                           ", database: t_open, user_env: SLUICE_TEST_CH_USER }\nlanding: { path: /tmp }\n";
  ::unsetenv("SLUICE_TEST_CH_USER");
  auto config = ParseConfig(yaml, "s.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto refused = OpenWarehouse(*config);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalid());
  EXPECT_THAT(refused.status().message(), HasSubstr("SLUICE_TEST_CH_USER"));
  ::setenv("SLUICE_TEST_CH_USER", "default", 1);
  auto w = OpenWarehouse(*config);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  auto r = (*w)->Query("SELECT count() FROM system.tables WHERE database = 't_open' AND name = '_sluice_batches'");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Scalar(), "1");
  ::unsetenv("SLUICE_TEST_CH_USER");
  // Wrong password: Invalid, and the password is not in the message.
  ClickHouseWarehouse::Options o;
  o.server.url = cluster_->http_url(0);
  o.server.user = "default";
  o.server.password = "s3cret-value";
  o.target.database = "t_open";
  auto bad = ClickHouseWarehouse::Open(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.status().IsRetry()) << bad.status().ToString();
  EXPECT_THAT(bad.status().message(), ::testing::Not(HasSubstr("s3cret")));
}

TEST_F(ClickHouseSingle, AnUnreachableServerIsRetry) {
  ClickHouseWarehouse::Options o;
  o.server.url = "http://127.0.0.1:1";
  o.target.database = "x";
  auto w = ClickHouseWarehouse::Open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(w.status().IsRetry()) << w.status().ToString();
}

}  // namespace
}  // namespace sluice

namespace sluice {
namespace {

// A measurement, not a check (run with --gtest_also_run_disabled_tests): a 1,000,000-row batch through
// LoadBatch (RowBinary blocks + ledger) against ClickHouse's own INSERT ... FORMAT JSONEachRow of the same
// NDJSON into a table of the same columns (without sluice's position columns).
TEST_F(ClickHouseSingle, DISABLED_LoadRateOfAMillionRowBatchAgainstJsonEachRow) {
  auto config = ParseConfig(
      "landing: { path: /tmp }\nstreams:\n  flat:\n    event_time: ts\n    schema: { ts: "
      "timestamp, event: string, ad_id: int64, website_id: int64, duration_ms: int64, ua: "
      "string, country: string }\n    sources: [ { kind: http } ]\n",
      "t.yaml");
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(w_->Prepare(*config).ok());
  std::vector<std::string> lines;
  std::string ndjson;
  for (int i = 0; i < 1'000'000; ++i) {
    std::string line = R"({"ts":)" + std::to_string(1'793'491'200 + i / 20) + R"(,"event":"complete","ad_id":)" +
                       std::to_string(i % 5000) + R"(,"website_id":)" + std::to_string(i % 977) + R"(,"duration_ms":)" +
                       std::to_string(i % 30000) +
                       R"(,"ua":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36","country":"FR"})";
    ndjson += line + "\n";
    lines.push_back(std::move(line));
  }
  auto batch = MakeBatch(config->streams[0], 0, lines);
  auto e0 = std::chrono::steady_clock::now();
  auto blocks = EncodeRawBlocks(*batch, RawColumnsFor(config->streams[0]));
  auto e1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(blocks.ok());
  std::printf("encoding (test helper: every block, fresh buffers): %lld ms, %zu bytes\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(e1 - e0).count()),
              (*blocks)[0].data.size());
  auto t0 = std::chrono::steady_clock::now();
  auto loaded = w_->LoadBatch(*batch, "f");
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  ASSERT_TRUE(w_->Execute("CREATE TABLE json_flat (ts DateTime, event String, ad_id Int64, website_id Int64, "
                          "duration_ms Int64, ua String, country String, event_date Date MATERIALIZED toDate(ts)) "
                          "ENGINE = MergeTree() PARTITION BY event_date ORDER BY ts")
                  .ok());
  auto t2 = std::chrono::steady_clock::now();
  Status st = w_->client().Insert("INSERT INTO json_flat FORMAT JSONEachRow", ndjson);
  auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("sluice LoadBatch (Native, 13 columns): %lld ms\nClickHouse JSONEachRow (7 columns): %lld ms\n",
              static_cast<long long>(ms(t1 - t0)), static_cast<long long>(ms(t3 - t2)));
  EXPECT_EQ(Q("SELECT count() FROM raw_flat"), "1000000");
  EXPECT_EQ(Q("SELECT count() FROM json_flat"), "1000000");
}

}  // namespace
}  // namespace sluice
