// Rollups and models on ClickHouse, against a real clickhouse-server (the fixture): built, re-rolled for
// late events by whole days (staging + REPLACE PARTITION), equal to a GROUP BY from scratch over raw,
// idempotent, with models over {{ touched_hours }}, definition changes, a crash before the cursor, a ledger
// row that becomes visible late, and 1 shard x 2 replicas. Each test has its own database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/time.h"
#include "testing/lease_lost_while_computing.h"
#include "transform/rollup_sql.h"
#include "transform/transformer.h"
#include "warehouse/clickhouse/clickhouse_dialect.h"
#include "warehouse/clickhouse/clickhouse_test_util.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

constexpr const char* kYaml = R"(
streams:
  tracking:
    event_time: ts
    allowed_lateness: 2h
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, ua: string, dur: int64 }
    sources: [ { kind: http } ]
rollups:
  tracking_hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id, website_id]
    pivot: { column: event, values: [start, complete, click] }
    measures: { events: count, total_dur: sum(dur), max_dur: max(dur), min_dur: min(dur), uas: approx_distinct(ua) }
  tracking_daily:
    stream: tracking
    grain: day
    dimensions: [ad_id]
    measures: { events: count, avg_dur: avg(dur) }
)";

std::string Event(const std::string& ts, int ad, int site, const std::string& event, const std::string& ua, int dur) {
  return "{\"ts\":\"" + ts + "\",\"ad_id\":" + std::to_string(ad) + ",\"website_id\":" + std::to_string(site) +
         ",\"event\":\"" + event + "\",\"ua\":\"" + ua + "\",\"dur\":" + std::to_string(dur) + "}";
}

// `count` events spread over hours 08-13 of 2026-11-01 and 2026-11-02.
std::vector<std::string> ManyEvents(int first, int count) {
  static const char* kinds[] = {"start", "complete", "click", "midpoint"};
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-11-0%dT%02d:%02d:%02dZ", 1 + i % 2, 8 + i % 6, i % 60, (i * 7) % 60);
    out.push_back(Event(ts, i % 3, i % 2, kinds[i % 4], "ua" + std::to_string(i % 5), i % 100));
  }
  return out;
}

// Rows of `sql` as "a|b|c" lines, sorted: tables compared as sets of rows.
std::vector<std::string> Rows(Warehouse& w, const std::string& sql) {
  std::vector<std::string> out = testing::Rows(w, sql);
  std::sort(out.begin(), out.end());
  return out;
}

class TransformsOnClickHouse : public testing::SingleServerSuite {
 protected:
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    std::filesystem::create_directories(dir_.path / "models");
    UseConfig(kYaml);
    Reopen();
  }
  void UseConfig(const std::string& yaml) {
    auto c = ParseConfig(std::string(yaml) + "models: models\n", "t.yaml", dir_.path.string());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<Config>(std::move(*c));
  }
  // What a restarted sluice opens.
  void Reopen() {
    w_.reset();
    auto w = testing::OpenOn(*cluster_, 0, testing::TestDatabase());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    w_ = std::move(*w);
    Status st = w_->Prepare(*config_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  void WriteModel(const std::string& name, const std::string& sql) {
    std::ofstream(dir_.path / "models" / (name + ".sql")) << sql;
  }
  std::unique_ptr<Transformer> MakeTransformer() {
    auto t = Transformer::Create(*config_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  void Load(const std::vector<std::string>& records, int64_t first_offset, ClickHouseWarehouse* w = nullptr) {
    auto b = testing::MakeBatch(config_->streams[0], first_offset, records, "p0", "tracking.http");
    auto loaded = (w ? w : w_.get())->LoadBatch(*b, "f");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(*loaded, LoadOutcome::kLoaded);
  }
  TransformReport Transform(Transformer& t, const TransformOptions& o = {}) {
    auto r = t.Run(*w_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : TransformReport{};
  }
  // The rollup's rows, and the same aggregate computed from scratch over all of raw.
  std::vector<std::string> RollupRows(const std::string& name) { return Rows(*w_, "SELECT * FROM " + name); }
  std::vector<std::string> FromScratch(Transformer& t, const std::string& name) {
    return Rows(*w_, RollupSelectSql(w_->dialect(), *t.FindRollup(name)));
  }
  std::string Q(const std::string& sql) { return testing::Scalar(*w_, sql); }
  // How many staging tables (of any writer) the database holds.
  std::string Stages() {
    return Q(
        "SELECT count() FROM system.tables WHERE database = currentDatabase() AND "
        "substring(name, 1, 14) = '_sluice_stage_'");
  }

  testing::TempDir dir_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<ClickHouseWarehouse> w_;
};

TEST_F(TransformsOnClickHouse, RollupsOfEveryMeasureKindEqualAGroupByFromScratch) {
  Load({Event("2026-11-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2026-11-01T10:06:00Z", 1, 7, "complete", "b", 30),
        Event("2026-11-01T10:07:00Z", 1, 7, "start", "a", 20), Event("2026-11-01T10:59:59Z", 1, 7, "midpoint", "c", 5),
        Event("2026-11-01T11:00:00Z", 2, 7, "click", "a", 1)},
       0);
  auto t = MakeTransformer();
  TransformReport r = Transform(*t);
  EXPECT_EQ(r.tables_changed, 2);
  EXPECT_EQ(Rows(*w_,
                 "SELECT hour, ad_id, website_id, events, total_dur, max_dur, min_dur, uas, start, complete, click "
                 "FROM tracking_hourly"),
            (std::vector<std::string>{"2026-11-01 10:00:00|1|7|4|65|30|5|3|2|1|0",
                                      "2026-11-01 11:00:00|2|7|1|1|1|1|1|0|0|1"}));
  EXPECT_EQ(Rows(*w_, "SELECT day, ad_id, events, avg_dur FROM tracking_daily"),
            (std::vector<std::string>{"2026-11-01 00:00:00|1|4|16.25", "2026-11-01 00:00:00|2|1|1"}));
  // Target tables: MergeTree by day of the bucket, bucket typed DateTime('UTC').
  EXPECT_EQ(Q("SELECT concat(engine, ' ', partition_key) FROM system.tables WHERE database = currentDatabase() "
              "AND name = 'tracking_hourly'"),
            "MergeTree toDate(hour)");
  EXPECT_EQ(Q("SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'tracking_hourly' "
              "AND name = 'hour'"),
            "DateTime('UTC')");
  EXPECT_EQ(Q("SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '_sluice_stage%'"),
            "0");
  EXPECT_EQ(RollupRows("tracking_hourly"), FromScratch(*t, "tracking_hourly"));
}

TEST_F(TransformsOnClickHouse, LateEventsForAnOldHourAreReRolledIntoTheirHourAndEqualAGroupByFromScratch) {
  Load(ManyEvents(0, 600), 0);
  auto t = MakeTransformer();
  Transform(*t);
  ASSERT_EQ(RollupRows("tracking_hourly"), FromScratch(*t, "tracking_hourly"));
  const std::string before =
      Q("SELECT sum(events) FROM tracking_hourly WHERE hour = toDateTime('2026-11-01 09:00:00', 'UTC')");
  // A day late: events for hour 09 of the first day, and a new hour (03) of it.
  Load(
      {Event("2026-11-01T09:30:00Z", 1, 1, "click", "late", 7), Event("2026-11-01T09:31:00Z", 9, 1, "start", "late", 8),
       Event("2026-11-01T03:00:00Z", 2, 0, "start", "late", 9)},
      600);
  TransformReport r = Transform(*t);
  EXPECT_EQ(r.tables_changed, 2);
  EXPECT_EQ(r.hours_recomputed, 4);  // the two touched hours, counted for each rollup
  EXPECT_EQ(Q("SELECT sum(events) FROM tracking_hourly WHERE hour = toDateTime('2026-11-01 09:00:00', 'UTC')"),
            std::to_string(std::stoll(before) + 2));
  EXPECT_EQ(Q("SELECT events FROM tracking_hourly WHERE hour = toDateTime('2026-11-01 03:00:00', 'UTC')"), "1");
  EXPECT_EQ(RollupRows("tracking_hourly"), FromScratch(*t, "tracking_hourly"));
  EXPECT_EQ(RollupRows("tracking_daily"), FromScratch(*t, "tracking_daily"));
  // The watermark is the newest event (13:59:53 on the 2nd) minus 2h: an hour is final once it ends by then.
  EXPECT_EQ(Q("SELECT toString(watermark) FROM _sluice_watermarks"), "2026-11-02 11:59:53");
  EXPECT_EQ(Rows(*w_,
                 "SELECT toString(hour), `rows`, final FROM _sluice_hours WHERE hour >= "
                 "toDateTime('2026-11-02 00:00:00', 'UTC')"),
            (std::vector<std::string>{"2026-11-02 09:00:00|100|1", "2026-11-02 11:00:00|100|0",
                                      "2026-11-02 13:00:00|100|0"}));
}

TEST_F(TransformsOnClickHouse, ReRunningATransformChangesNothing) {
  Load(ManyEvents(0, 200), 0);
  auto t = MakeTransformer();
  Transform(*t);
  auto before = RollupRows("tracking_hourly");
  auto parts =
      Q("SELECT groupArray(name) FROM (SELECT name FROM system.parts WHERE active AND database = "
        "currentDatabase() AND table = 'tracking_hourly' ORDER BY name)");
  EXPECT_EQ(Transform(*t).tables_changed, 0);
  // A new process finds nothing to do either, and leaves the table's parts as they were.
  t.reset();
  Reopen();
  auto t2 = MakeTransformer();
  EXPECT_EQ(Transform(*t2).tables_changed, 0);
  EXPECT_EQ(Q("SELECT groupArray(name) FROM (SELECT name FROM system.parts WHERE active AND database = "
              "currentDatabase() AND table = 'tracking_hourly' ORDER BY name)"),
            parts);
  // Recomputing a range that is already right changes no row.
  TransformOptions range;
  range.from_us = *ParseIsoMicros("2026-11-01T00:00:00Z");
  range.to_us = *ParseIsoMicros("2026-11-03T00:00:00Z");
  EXPECT_EQ(Transform(*t2, range).hours_recomputed, 96);
  EXPECT_EQ(RollupRows("tracking_hourly"), before);
  EXPECT_EQ(Transform(*t2, {}).tables_changed, 0);
}

TEST_F(TransformsOnClickHouse, AModelWithTouchedHoursIsRecomputedForTheTouchedDays) {
  WriteModel("hourly_totals",
             "-- sluice: time_column=hour\n"
             "SELECT hour, sum(events) AS events, sum(click) AS clicks FROM {{ ref('tracking_hourly') }}\n"
             "WHERE hour IN ({{ touched_hours }}) GROUP BY hour");
  WriteModel("ads", "SELECT ad_id, sum(events) AS events FROM {{ ref('tracking_daily') }} GROUP BY ad_id");
  UseConfig(kYaml);
  auto t = MakeTransformer();
  Load(ManyEvents(0, 120), 0);
  Transform(*t);
  const std::string expected_sql = "SELECT hour, sum(events), sum(click) FROM tracking_hourly GROUP BY hour";
  EXPECT_EQ(Rows(*w_, "SELECT * FROM hourly_totals"), Rows(*w_, expected_sql));
  EXPECT_EQ(Q("SELECT sum(events) FROM ads"), "120");
  Load({Event("2026-11-02T09:10:00Z", 1, 1, "click", "x", 1)}, 120);
  TransformReport r = Transform(*t);
  EXPECT_EQ(r.tables_changed, 4);
  EXPECT_EQ(Rows(*w_, "SELECT * FROM hourly_totals"), Rows(*w_, expected_sql));
  EXPECT_EQ(Q("SELECT clicks FROM hourly_totals WHERE hour = toDateTime('2026-11-02 09:00:00', 'UTC')"),
            Q("SELECT sum(click) FROM tracking_hourly WHERE hour = toDateTime('2026-11-02 09:00:00', 'UTC')"));
  EXPECT_EQ(Q("SELECT sum(events) FROM ads"), "121");
  // The model without a time column is one partition; the incremental one is by day.
  EXPECT_EQ(Q("SELECT partition_key FROM system.tables WHERE database = currentDatabase() AND name = 'ads'"),
            "tuple()");
  EXPECT_EQ(Q("SELECT groupArray(partition_id) FROM (SELECT DISTINCT partition_id FROM system.parts WHERE active AND "
              "database = currentDatabase() AND table = 'hourly_totals' ORDER BY partition_id)"),
            "['20261101','20261102']");
  // {{ touched_hours }} in the dialect: UTC DateTime literals; none expands to a typed NULL matching nothing.
  EXPECT_EQ(w_->dialect().TimestampList({*ParseIsoMicros("2026-11-01T10:00:00.5Z")}),
            "toDateTime('2026-11-01 10:00:00', 'UTC')");
  EXPECT_EQ(Q("SELECT count() FROM tracking_hourly WHERE hour IN (" + w_->dialect().NullTimestamp() + ")"), "0");
}

TEST_F(TransformsOnClickHouse, ADefinitionChangeRebuildsTheTableWithItsNewColumns) {
  Load(ManyEvents(0, 60), 0);
  auto t = MakeTransformer();
  Transform(*t);
  std::string yaml = kYaml;
  yaml.replace(yaml.find("avg_dur: avg(dur) }"), 19, "avg_dur: avg(dur), dur_users: approx_distinct(ua) }");
  UseConfig(yaml);
  auto t2 = MakeTransformer();
  TransformReport r = Transform(*t2);
  EXPECT_EQ(r.tables_changed, 1);
  EXPECT_EQ(RollupRows("tracking_daily"), FromScratch(*t2, "tracking_daily"));
  EXPECT_EQ(Q("SELECT count() FROM system.columns WHERE database = currentDatabase() AND table = 'tracking_daily' AND "
              "name = 'dur_users'"),
            "1");
  EXPECT_EQ(Q("SELECT count() FROM system.tables WHERE database = currentDatabase() AND name LIKE '_sluice_%' AND "
              "name NOT IN ('_sluice_batches', '_sluice_dead_letters', '_sluice_runs', '_sluice_http_cache', "
              "'_sluice_transform_cursor', '_sluice_watermarks', '_sluice_hours')"),
            "0");
  // A full refresh of an unchanged table swaps its partitions in place.
  TransformOptions full;
  full.full_refresh = true;
  EXPECT_EQ(Transform(*t2, full).tables_changed, 2);
  EXPECT_EQ(RollupRows("tracking_hourly"), FromScratch(*t2, "tracking_hourly"));
}

TEST_F(TransformsOnClickHouse, ACrashBeforeTheCursorIsRedoneByTheNextRun) {
  Load(ManyEvents(0, 100), 0);
  auto t = MakeTransformer();
  Transform(*t);
  Load({Event("2026-11-01T08:00:01Z", 1, 1, "click", "x", 1)}, 100);
  w_->SetFaultHook([](std::string_view point) {
    return point == "cursor" ? Status::Internal("crash before the cursor") : Status::Ok();
  });
  EXPECT_FALSE(t->Run(*w_).ok());
  w_->SetFaultHook(nullptr);
  Reopen();
  auto t2 = MakeTransformer();
  EXPECT_EQ(Transform(*t2).tables_changed, 2);
  EXPECT_EQ(RollupRows("tracking_hourly"), FromScratch(*t2, "tracking_hourly"));
  EXPECT_EQ(Transform(*t2).tables_changed, 0);
}

// The lease passes to another worker while this one computes: from the moment the new rows are staged, its
// fence is refused. Nothing readers see changes, neither for a day recompute nor for a rebuild.
TEST_F(TransformsOnClickHouse, AnOwnerWhoseLeasePassedWhileItComputedCommitsNothing) {
  Load(ManyEvents(0, 100), 0);
  auto t = MakeTransformer();
  Transform(*t);
  const auto hourly = RollupRows("tracking_hourly"), daily = RollupRows("tracking_daily");
  const auto cursors = Rows(*w_, "SELECT target, last_seq FROM _sluice_transform_cursor FINAL");
  Load({Event("2026-11-01T08:00:01Z", 1, 1, "click", "x", 1)}, 100);

  testing::LeaseLostWhileComputing leases([&] { return Stages() != "0"; });
  for (bool full : {false, true}) {
    SCOPED_TRACE(full ? "rebuild" : "day recompute");
    TransformOptions o;
    o.leases = &leases;
    o.full_refresh = full;
    auto refused = t->Run(*w_, o);
    ASSERT_FALSE(refused.ok());
    EXPECT_TRUE(refused.status().IsStale()) << refused.status().ToString();
    EXPECT_EQ(RollupRows("tracking_hourly"), hourly);
    EXPECT_EQ(RollupRows("tracking_daily"), daily);
    EXPECT_EQ(Rows(*w_, "SELECT target, last_seq FROM _sluice_transform_cursor FINAL"), cursors);
    EXPECT_EQ(Stages(), "0") << "the refused owner leaves no stage behind";
  }
  EXPECT_EQ(leases.fences(), 2);

  // The new owner commits the late event.
  EXPECT_EQ(Transform(*t).tables_changed, 2);
  EXPECT_EQ(RollupRows("tracking_hourly"), FromScratch(*t, "tracking_hourly"));
}

// Two writers of one target at once, as when an owner cut off from ZooKeeper still computes while its
// successor commits: the stale one stages days 1 (in the middle of the successor's write, once the
// successor's rows are staged) and is refused at its fence; the successor's swap of days 1 and 2 must take
// its own rows, not the stale writer's stage, and nothing is left staged.
TEST_F(TransformsOnClickHouse, AStaleWriterComputingBesideItsSuccessorNeverTouchesTheSuccessorsStage) {
  ASSERT_TRUE(w_->PrepareTransforms(*config_).ok());
  ASSERT_TRUE(w_->Execute("CREATE TABLE r (hour DateTime('UTC'), who String) ENGINE = MergeTree() "
                          "PARTITION BY toDate(hour) ORDER BY hour")
                  .ok());
  auto stale = testing::OpenOn(*cluster_, 0, testing::TestDatabase());
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  auto write = [](const std::string& who, std::set<int64_t> days) {
    TargetWrite w;
    w.kind = TargetWrite::Kind::kReplaceBuckets;
    w.table = "r";
    w.bucket_column = "hour";
    w.buckets = std::move(days);
    w.select_for = [who, own = w.buckets](const std::set<int64_t>&) {
      std::string sql;
      for (int64_t d : own)
        sql += std::string(sql.empty() ? "" : " UNION ALL ") + "SELECT toDateTime('" + FormatIsoDate(DayOf(d)) +
               " 10:00:00', 'UTC') AS hour, '" + who + "' AS who";
      return sql;
    };
    w.cursor_seq = 1;
    w.definition = "r";
    return w;
  };
  const int64_t day1 = *ParseIsoMicros("2026-11-01T00:00:00Z"), day2 = *ParseIsoMicros("2026-11-02T00:00:00Z");
  TargetWrite successor = write("successor", {day1, day2});
  Status stale_result;
  successor.fence = [&] {
    TargetWrite old = write("stale", {day1});
    old.fence = [] { return Status::Stale("lease passed to another worker"); };
    stale_result = (*stale)->WriteTarget(old);
    return Status::Ok();
  };
  Status st = w_->WriteTarget(successor);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(stale_result.IsStale()) << stale_result.ToString();
  EXPECT_EQ(Rows(*w_, "SELECT toString(hour), who FROM r"),
            (std::vector<std::string>{"2026-11-01 10:00:00|successor", "2026-11-02 10:00:00|successor"}));
  EXPECT_EQ(Stages(), "0");
}

TEST_F(TransformsOnClickHouse, ALedgerRowVisibleOnlyAfterTheRunReadTheLedgerIsAbsorbedByTheNextRun) {
  Load(ManyEvents(0, 100), 0);
  auto t = MakeTransformer();
  Transform(*t);
  // Another loader's batch: its rows are in raw, its ledger row (seq from that loader's clock, earlier than
  // the head) shows up only after this run read the ledger.
  w_->SetFaultHook([](std::string_view point) {
    return point == "ledger" ? Status::Internal("ledger row held back") : Status::Ok();
  });
  auto late = testing::MakeBatch(config_->streams[0], 0, {Event("2026-11-01T08:30:00Z", 5, 5, "click", "o", 3)}, "q0",
                                 "tracking.http");
  EXPECT_FALSE(w_->LoadBatch(*late, "f").ok());
  w_->SetFaultHook(nullptr);
  Load({Event("2026-11-02T12:00:00Z", 1, 1, "start", "x", 1)}, 100);
  EXPECT_EQ(Transform(*t).tables_changed, 2);
  EXPECT_EQ(Q("SELECT count() FROM tracking_hourly WHERE ad_id = 5"), "0");
  ASSERT_TRUE(w_->Execute("INSERT INTO _sluice_batches (batch_id, seq, stream, event_hours, version) SELECT 'late', "
                          "max(seq) - 1000, 'tracking', [toDateTime('2026-11-01 08:00:00')], 1 FROM _sluice_batches")
                  .ok());
  EXPECT_EQ(Transform(*t).tables_changed, 2);
  EXPECT_EQ(Q("SELECT count() FROM tracking_hourly WHERE ad_id = 5"), "1");
  EXPECT_EQ(RollupRows("tracking_hourly"), FromScratch(*t, "tracking_hourly"));
  EXPECT_EQ(Transform(*t).tables_changed, 0);
}

TEST(ClickHouseDialectSql, ReplaceBucketsSwapsWholeDaysFromAStagingTable) {
  TargetWrite w;
  w.kind = TargetWrite::Kind::kReplaceBuckets;
  w.table = "r";
  w.bucket_column = "hour";
  w.buckets = {*ParseIsoMicros("2026-11-01T10:00:00Z"), *ParseIsoMicros("2026-11-03T23:00:00Z")};
  std::set<int64_t> asked;
  w.select_for = [&](const std::set<int64_t>& b) {
    asked = b;
    return std::string("SELECT 1");
  };
  const ClickHouseDialect d;
  EXPECT_EQ(
      d.WriteTargetSql(w),
      (std::vector<std::string>{
          "DROP TABLE IF EXISTS `_sluice_stage_r`",
          "CREATE TABLE `_sluice_stage_r` AS `r` ENGINE = MergeTree() PARTITION BY toDate(`hour`) ORDER BY `hour`",
          "INSERT INTO `_sluice_stage_r` SELECT * FROM (SELECT 1)",
          "ALTER TABLE `r` REPLACE PARTITION ID '20261101' FROM `_sluice_stage_r`",
          "ALTER TABLE `r` REPLACE PARTITION ID '20261103' FROM `_sluice_stage_r`", "DROP TABLE `_sluice_stage_r`"}));
  EXPECT_EQ(asked.size(), 48u);  // every hour of both days
  EXPECT_EQ(d.TimeBucket("day", "`ts`"), "toStartOfDay(`ts`, 'UTC')");
  EXPECT_EQ(d.GroupBy({"a", "`b`"}), "GROUP BY a, `b`");
  EXPECT_EQ(&DialectFor("clickhouse"), &DialectFor("clickhouse"));
  EXPECT_NE(&DialectFor("clickhouse"), &DialectFor("duckdb"));
}

// 1 shard x 2 replicas: the target is one ReplicatedMergeTree on both servers; late events loaded through
// replica 2 and transformed there leave both replicas equal to a GROUP BY from scratch.
TEST(TransformsOnAClickHouseCluster, LateEventsReRolledOnEitherReplicaLeaveBothEqualToAGroupByFromScratch) {
  auto cluster = ClickHouseTestCluster::Start(ClickHouseTestCluster::Layout::kTwoReplicas);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  testing::TempDir dir;
  auto c = ParseConfig(kYaml, "t.yaml", dir.path.string());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Config config = std::move(*c);
  std::unique_ptr<ClickHouseWarehouse> w[2];
  for (int i = 0; i < 2; ++i) {
    auto opened = testing::OpenOn(**cluster, i, "sluice");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    w[i] = std::move(*opened);
    ASSERT_TRUE(w[i]->Prepare(config).ok());
  }
  auto load = [&](ClickHouseWarehouse& on, const std::vector<std::string>& records, int64_t first) {
    auto b = testing::MakeBatch(config.streams[0], first, records, "p0", "tracking.http");
    auto loaded = on.LoadBatch(*b, "f");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  };
  auto t = Transformer::Create(config);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  load(*w[0], ManyEvents(0, 300), 0);
  auto r = (*t)->Run(*w[0]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables_changed, 2);
  load(*w[1], {Event("2026-11-01T09:45:00Z", 1, 1, "click", "late", 4)}, 300);
  ASSERT_TRUE(w[1]->Execute("SYSTEM SYNC REPLICA _sluice_transform_cursor").ok());
  auto t2 = Transformer::Create(config);
  ASSERT_TRUE(t2.ok());
  r = (*t2)->Run(*w[1]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->tables_changed, 2);
  for (auto& x : w) {
    ASSERT_TRUE(x->Execute("SYSTEM SYNC REPLICA tracking_hourly").ok());
    ASSERT_TRUE(x->Execute("SYSTEM SYNC REPLICA raw_tracking_local").ok());
    EXPECT_EQ(Rows(*x, "SELECT * FROM tracking_hourly"),
              Rows(*x, RollupSelectSql(x->dialect(), *(*t2)->FindRollup("tracking_hourly"))));
    EXPECT_EQ(testing::Scalar(*x, "SELECT sum(events) FROM tracking_hourly"), "301");
    EXPECT_THAT(testing::Scalar(*x,
                                "SELECT engine FROM system.tables WHERE database = 'sluice' AND name = "
                                "'tracking_daily'"),
                HasSubstr("ReplicatedMergeTree"));
  }
}

}  // namespace
}  // namespace sluice
