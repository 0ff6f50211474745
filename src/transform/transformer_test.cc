#include "transform/transformer.h"

#include <gtest/gtest.h>

#include <set>

#include "testing/lease_lost_while_computing.h"
#include "transform/transform_test_util.h"

namespace sluice {
namespace {

using testing::TransformTest;

class TransformerTest : public TransformTest {
 protected:
  void SetUpDefault(const std::string& extra = "") {
    UseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml + extra);
    OpenWarehouse();
  }
};

TEST_F(TransformerTest, PivotValuesBecomeCountColumns) {
  SetUpDefault();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T10:06:00Z", 1, 7, "complete", "b", 30),
        Event("2024-05-01T10:07:00Z", 1, 7, "start", "a", 20), Event("2024-05-01T10:59:59Z", 1, 7, "midpoint", "c", 5),
        Event("2024-05-01T11:00:00Z", 2, 7, "click", "a", 1)},
       0);
  auto t = MakeTransformer();
  TransformReport r = Transform(*t);
  EXPECT_EQ(r.tables_changed, 2);
  EXPECT_EQ(Rows("SELECT hour, ad_id, website_id, events, total_dur, max_dur, min_dur, uas, start, complete, click "
                 "FROM tracking_hourly"),
            (std::vector<std::string>{"2024-05-01 10:00:00|1|7|4|65|30|5|3|2|1|0",
                                      "2024-05-01 11:00:00|2|7|1|1|1|1|1|0|0|1"}));
  EXPECT_EQ(Rows("SELECT day, ad_id, events, avg_dur FROM tracking_daily"),
            (std::vector<std::string>{"2024-05-01 00:00:00|1|4|16.25", "2024-05-01 00:00:00|2|1|1.0"}));
  EXPECT_EQ(Q("SELECT string_agg(target || ':' || last_seq, ',' ORDER BY target) FROM _sluice_transform_cursor"),
            "tracking_daily:1,tracking_hourly:1");
}

TEST_F(TransformerTest, RunningTwiceChangesNothing) {
  SetUpDefault();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T12:00:00Z", 1, 7, "click", "a", 1)}, 0);
  auto t = MakeTransformer();
  Transform(*t);
  auto before = Rows("SELECT * FROM tracking_hourly");
  TransformReport again = Transform(*t);
  EXPECT_EQ(again.tables_changed, 0);
  EXPECT_EQ(Rows("SELECT * FROM tracking_hourly"), before);
  // A new process (fresh transformer, reopened file) also finds nothing to do.
  t.reset();
  OpenWarehouse();
  auto t2 = MakeTransformer();
  EXPECT_EQ(Transform(*t2).tables_changed, 0);
  EXPECT_EQ(Rows("SELECT * FROM tracking_hourly"), before);
  // Recomputing a range that is already right changes nothing either.
  TransformOptions range;
  range.from_us = *ParseIsoMicros("2024-05-01T00:00:00Z");
  range.to_us = *ParseIsoMicros("2024-05-02T00:00:00Z");
  EXPECT_EQ(Transform(*t2, range).hours_recomputed, 48);  // 24 hours in each of the two rollups
  EXPECT_EQ(Rows("SELECT * FROM tracking_hourly"), before);
}

TEST_F(TransformerTest, LateEventRecomputesOnlyItsHour) {
  SetUpDefault();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T14:00:00Z", 1, 7, "start", "a", 1)}, 0);
  auto t = MakeTransformer();
  Transform(*t);
  // Four hours late: behind the 2h watermark, still loaded and rolled into hour 10.
  Load({Event("2024-05-01T10:30:00Z", 1, 7, "click", "z", 5)}, 2);
  TransformReport r = Transform(*t);
  EXPECT_EQ(r.hours_recomputed, 2);  // hour 10 in the hourly rollup, its day in the daily one
  EXPECT_EQ(Rows("SELECT hour, events, start, click, uas FROM tracking_hourly"),
            (std::vector<std::string>{"2024-05-01 10:00:00|2|1|1|2", "2024-05-01 14:00:00|1|1|0|1"}));
  // The watermark is 14:00 - 2h = 12:00: hour 10 is final, hour 14 is not.
  EXPECT_EQ(Rows("SELECT stream, hour, rows, final FROM _sluice_hours"),
            (std::vector<std::string>{"tracking|2024-05-01 10:00:00|2|true", "tracking|2024-05-01 14:00:00|1|false"}));
  EXPECT_EQ(Q("SELECT watermark FROM _sluice_watermarks"), "2024-05-01 12:00:00");
}

TEST_F(TransformerTest, FullRefreshEqualsIncremental) {
  SetUpDefault();
  auto t = MakeTransformer();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T11:00:00Z", 2, 7, "click", "b", 3)}, 0);
  Transform(*t);
  Load({Event("2024-05-01T09:05:00Z", 1, 8, "complete", "a", 10), Event("2024-05-02T01:00:00Z", 2, 7, "click", "c", 4)}, 2);
  Transform(*t);
  Load({Event("2024-05-01T10:45:00Z", 1, 7, "start", "d", 7)}, 4);
  Transform(*t);
  auto hourly = Rows("SELECT * FROM tracking_hourly");
  auto daily = Rows("SELECT * FROM tracking_daily");
  TransformOptions full;
  full.full_refresh = true;
  EXPECT_EQ(Transform(*t, full).tables_changed, 2);
  EXPECT_EQ(Rows("SELECT * FROM tracking_hourly"), hourly);
  EXPECT_EQ(Rows("SELECT * FROM tracking_daily"), daily);
  EXPECT_EQ(hourly.size(), 4u);
}

TEST_F(TransformerTest, ModelsFollowTheirInputsIncrementallyOrWhole) {
  WriteModel("ctr", "-- sluice: time_column=hour\nSELECT hour, sum(start) AS starts, sum(click) AS clicks FROM "
                    "{{ ref('tracking_hourly') }} WHERE hour IN ({{ touched_hours }}) GROUP BY ALL");
  WriteModel("ctr_total", "SELECT sum(starts) AS starts, sum(clicks) AS clicks, count(*) AS hours FROM {{ ref('ctr') }}");
  WriteModel("uas", "SELECT count(DISTINCT ua) AS uas FROM {{ ref('tracking') }}");
  SetUpDefault("models: models\n");
  auto t = MakeTransformer();
  ASSERT_TRUE(t);
  std::string order;
  for (const auto& target : t->targets()) order += target.name + " ";
  EXPECT_EQ(order, "tracking_hourly tracking_daily ctr ctr_total uas ");
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10), Event("2024-05-01T11:00:00Z", 2, 7, "click", "b", 3)}, 0);
  Transform(*t);
  EXPECT_EQ(Rows("SELECT * FROM ctr"), (std::vector<std::string>{"2024-05-01 10:00:00|1|0", "2024-05-01 11:00:00|0|1"}));
  EXPECT_EQ(Q("SELECT starts || '/' || clicks || '/' || hours FROM ctr_total"), "1/1/2");
  Load({Event("2024-05-01T11:10:00Z", 2, 7, "start", "c", 3), Event("2024-05-01T11:20:00Z", 2, 8, "click", "c", 3)}, 2);
  TransformReport r = Transform(*t);
  EXPECT_EQ(Rows("SELECT * FROM ctr"), (std::vector<std::string>{"2024-05-01 10:00:00|1|0", "2024-05-01 11:00:00|1|2"}));
  EXPECT_EQ(Q("SELECT starts || '/' || clicks || '/' || hours FROM ctr_total"), "2/2/2");
  EXPECT_EQ(Q("SELECT uas FROM uas"), "3");
  std::string lines;
  for (const auto& l : r.lines) lines += l.substr(0, l.find(" in ")) + "; ";
  EXPECT_EQ(lines, "tracking_hourly: recomputed 1 hour(s); tracking_daily: recomputed 1 hour(s); ctr: recomputed 1 "
                   "hour(s); ctr_total: rebuilt; uas: rebuilt; ");
  EXPECT_EQ(Transform(*t).tables_changed, 0);
}

// Leases as another worker would see them: only `held` are this worker's; a fence on `lost` is refused.
class SomeLeases : public WorkLeases {
 public:
  std::set<std::string> held, lost, asked;
  Result<bool> Acquire(const std::string& name) override {
    asked.insert(name);
    return held.count(name) > 0;
  }
  Status Fence(const std::string& name) override {
    return lost.count(name) ? Status::Cancelled("lease " + name + " passed to another worker") : Status::Ok();
  }
  void Release(const std::string&) override {}
};

TEST_F(TransformerTest, WorkersTransformOnlyTheGroupsTheyHoldAndAStaleOwnerCannotCommit) {
  WriteModel("ctr", "-- sluice: time_column=hour\nSELECT hour, sum(start) AS starts FROM "
                    "{{ ref('tracking_hourly') }} WHERE hour IN ({{ touched_hours }}) GROUP BY ALL");
  SetUpDefault("models: models\n");
  auto t = MakeTransformer();
  ASSERT_TRUE(t);
  // A model and the rollup it reads share a lease (transformed in order by one worker); the daily rollup
  // reads nothing the others do, so it has its own.
  EXPECT_EQ(t->LeaseOf("tracking_hourly"), "transform:tracking_hourly");
  EXPECT_EQ(t->LeaseOf("ctr"), "transform:tracking_hourly");
  EXPECT_EQ(t->LeaseOf("tracking_daily"), "transform:tracking_daily");
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10)}, 0);

  SomeLeases mine;
  mine.held = {"transform:tracking_daily"};
  TransformOptions o;
  o.leases = &mine;
  TransformReport r = Transform(*t, o);
  EXPECT_EQ(r.tables_changed, 1);
  EXPECT_EQ(r.skipped_groups, 1);
  EXPECT_EQ(Q("SELECT string_agg(target, ',' ORDER BY target) FROM _sluice_transform_cursor"), "tracking_daily");

  // The other group's owner is paused past its lease: its fence is refused and nothing moves.
  SomeLeases stale;
  stale.held = {"transform:tracking_hourly"};
  stale.lost = {"transform:tracking_hourly"};
  o.leases = &stale;
  auto refused = t->Run(*warehouse_, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("passed to another worker"), std::string::npos);
  EXPECT_EQ(Q("SELECT string_agg(target, ',' ORDER BY target) FROM _sluice_transform_cursor"), "tracking_daily");

  // Its new owner commits both of the group's targets, in order.
  stale.lost.clear();
  r = Transform(*t, o);
  EXPECT_EQ(r.tables_changed, 2);
  EXPECT_EQ(Rows("SELECT * FROM ctr"), (std::vector<std::string>{"2024-05-01 10:00:00|1"}));
}

TEST_F(TransformerTest, AnOwnerWhoseLeasePassedWhileItComputedCommitsNothing) {
  SetUpDefault();
  auto t = MakeTransformer();
  ASSERT_TRUE(t);
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10)}, 0);
  Transform(*t);
  const auto hourly = Rows("SELECT * FROM tracking_hourly");
  const auto daily = Rows("SELECT * FROM tracking_daily");
  const auto cursors = Rows("SELECT target, last_seq FROM _sluice_transform_cursor");

  // A late event. The lease passes on once this owner has computed the hour again: its open transaction
  // (the fence runs on its connection) holds the new rows.
  Load({Event("2024-05-01T10:30:00Z", 1, 7, "click", "b", 5)}, 1);
  testing::LeaseLostWhileComputing leases([&] { return Q("SELECT sum(events) FROM tracking_hourly") == "2"; });
  TransformOptions o;
  o.leases = &leases;
  auto refused = t->Run(*warehouse_, o);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsStale()) << refused.status().ToString();
  EXPECT_EQ(leases.fences(), 1);
  EXPECT_EQ(Rows("SELECT * FROM tracking_hourly"), hourly);
  EXPECT_EQ(Rows("SELECT * FROM tracking_daily"), daily);
  EXPECT_EQ(Rows("SELECT target, last_seq FROM _sluice_transform_cursor"), cursors);

  // The new owner (here: a lease that stays) commits the late event.
  EXPECT_EQ(Transform(*t).tables_changed, 2);
  EXPECT_EQ(Q("SELECT sum(events) FROM tracking_hourly"), "2");
}

TEST_F(TransformerTest, ChangedDefinitionOrAddedFieldRebuildsWhatDependsOnIt) {
  WriteModel("everything", "SELECT * EXCLUDE (_extra, _batch, _partition_index, _offset) FROM {{ ref('tracking') }}");
  WriteModel("by_ad", "-- sluice: time_column=hour\nSELECT hour, ad_id, events FROM {{ ref('tracking_daily2') }} "
                      "WHERE hour IN ({{ touched_hours }})");
  const std::string rollup = "  tracking_daily2: { stream: tracking, grain: hour, dimensions: [ad_id], measures: { events: count } }\n";
  SetUpDefault(rollup + "models: models\n");
  auto t = MakeTransformer();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10) , R"({"ts":"2024-05-01T10:06:00Z","ad_id":1,"country":"fr"})"}, 0);
  Transform(*t);
  EXPECT_EQ(Q("SELECT count(*) FROM everything"), "2");
  EXPECT_EQ(Q("SELECT events FROM by_ad"), "2");

  // New config: the stream gains `country` (raw gets the column) and the rollup a dimension.
  t.reset();
  std::string yaml = std::string(testing::kStreamYaml);
  yaml.replace(yaml.find("dur: int64"), 10, "dur: int64, country: string");
  std::string rollups = std::string(testing::kRollupsYaml) +
                        "  tracking_daily2: { stream: tracking, grain: hour, dimensions: [ad_id, website_id], "
                        "measures: { events: count } }\nmodels: models\n";
  UseConfig(yaml + rollups);
  OpenWarehouse();
  t = MakeTransformer();
  TransformReport r = Transform(*t);
  std::string lines;
  for (const auto& l : r.lines) lines += l.substr(0, l.find(" in ")) + "; ";
  EXPECT_EQ(lines, "tracking_daily2: rebuilt; by_ad: rebuilt; everything: rebuilt; ");
  EXPECT_EQ(Rows("SELECT ad_id, website_id, events FROM tracking_daily2"),
            (std::vector<std::string>{"1|7|1", "1|NULL|1"}));
  EXPECT_EQ(Q("SELECT count(*) FROM duckdb_columns() WHERE table_name = 'everything' AND column_name = 'country'"), "1");
}

TEST_F(TransformerTest, BadSqlRollsBackTheTableAndItsCursor) {
  WriteModel("broken", "SELECT no_such_column FROM {{ ref('tracking') }}");
  SetUpDefault("models: models\n");
  auto t = MakeTransformer();
  Load({Event("2024-05-01T10:05:00Z", 1, 7, "start", "a", 10)}, 0);
  auto r = t->Run(*warehouse_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("transforming broken"), std::string::npos) << r.status().message();
  // Targets before it committed; the broken one has no cursor, so it is retried next run.
  EXPECT_EQ(Q("SELECT count(*) FROM _sluice_transform_cursor WHERE target = 'broken'"), "0");
  EXPECT_EQ(Q("SELECT events FROM tracking_hourly"), "1");
}

}  // namespace
}  // namespace sluice
