#include "transform/rollup_sql.h"

#include <gtest/gtest.h>

#include "core/time.h"
#include "transform/transform_test_util.h"

namespace sluice {
namespace {

class RollupSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ParseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml, "t.yaml");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<Config>(std::move(*c));
    auto r = ParseRollups(*config_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    rollups_ = std::move(*r);
  }
  int64_t T(const char* iso) { return *ParseIsoMicros(iso); }
  // The statements the dialect runs for `w`, each ending in ";\n".
  std::string Statements(const TargetWrite& w) {
    std::string out;
    for (const auto& s : d_.WriteTargetSql(w)) out += s + ";\n";
    return out;
  }
  const SqlDialect& d_ = DialectFor("duckdb");
  std::unique_ptr<Config> config_;
  std::vector<RollupConfig> rollups_;
};

TEST_F(RollupSqlTest, SelectHasBucketDimensionsMeasuresAndOneCountPerPivotValue) {
  EXPECT_EQ(RollupSelectSql(d_, rollups_[0]),
            "SELECT date_trunc('hour', \"ts\")::TIMESTAMP AS \"hour\", \"ad_id\", \"website_id\", count(*) AS "
            "\"events\", sum(\"dur\") AS \"total_dur\", max(\"dur\") AS \"max_dur\", min(\"dur\") AS \"min_dur\", "
            "approx_count_distinct(\"ua\") AS \"uas\", count(*) FILTER (WHERE \"event\" = 'start') AS \"start\", "
            "count(*) FILTER (WHERE \"event\" = 'complete') AS \"complete\", count(*) FILTER (WHERE \"event\" = "
            "'click') AS \"click\" FROM \"raw_tracking\" GROUP BY ALL");
  EXPECT_EQ(Statements(RollupRebuild(d_, rollups_[1])),
            "CREATE OR REPLACE TABLE \"tracking_daily\" AS SELECT date_trunc('day', \"ts\")::TIMESTAMP AS \"day\", "
            "\"ad_id\", count(*) AS \"events\", avg(\"dur\") AS \"avg_dur\" FROM \"raw_tracking\" GROUP BY ALL;\n");
}

TEST_F(RollupSqlTest, RecomputeDeletesAndReinsertsExactlyTheTouchedHours) {
  std::set<int64_t> hours = {T("2024-05-01T10:00:00Z"), T("2024-05-01T13:00:00Z")};
  std::string sql = Statements(RollupRecompute(d_, rollups_[0], hours));
  EXPECT_EQ(sql.substr(0, sql.find(";")),
            "DELETE FROM \"tracking_hourly\" WHERE \"hour\" IN (TIMESTAMP '2024-05-01 10:00:00', TIMESTAMP "
            "'2024-05-01 13:00:00')");
  EXPECT_NE(sql.find("INSERT INTO \"tracking_hourly\" SELECT * FROM (SELECT date_trunc('hour', \"ts\")::TIMESTAMP AS \"hour\""),
            std::string::npos) << sql;
  // Range bounds (for zone-map pruning) and the exact set.
  EXPECT_NE(sql.find("WHERE \"ts\" >= TIMESTAMP '2024-05-01 10:00:00' AND \"ts\" < TIMESTAMP '2024-05-01 "
                     "14:00:00' AND date_trunc('hour', \"ts\")::TIMESTAMP IN (TIMESTAMP '2024-05-01 10:00:00', "
                     "TIMESTAMP '2024-05-01 13:00:00') GROUP BY ALL"),
            std::string::npos) << sql;
  EXPECT_EQ(Statements(RollupRecompute(d_, rollups_[0], {})), "");
}

TEST_F(RollupSqlTest, DayGrainRecomputesTheDaysOfTheTouchedHours) {
  std::set<int64_t> hours = {T("2024-05-01T10:00:00Z"), T("2024-05-01T23:00:00Z"), T("2024-05-03T00:00:00Z")};
  EXPECT_EQ(BucketsOf(hours, "day"), (std::set<int64_t>{T("2024-05-01"), T("2024-05-03")}));
  std::string sql = Statements(RollupRecompute(d_, rollups_[1], hours));
  EXPECT_NE(sql.find("DELETE FROM \"tracking_daily\" WHERE \"day\" IN (TIMESTAMP '2024-05-01 00:00:00', TIMESTAMP "
                     "'2024-05-03 00:00:00')"),
            std::string::npos) << sql;
  EXPECT_NE(sql.find("\"ts\" < TIMESTAMP '2024-05-04 00:00:00'"), std::string::npos) << sql;
}

TEST_F(RollupSqlTest, ExplainShowsBuildAndIncrementalTransaction) {
  std::string e = ExplainRollup(d_, rollups_[0], {T("2024-05-01T10:00:00Z")});
  EXPECT_NE(e.find("CREATE OR REPLACE TABLE \"tracking_hourly\" AS SELECT"), std::string::npos) << e;
  EXPECT_NE(e.find("atomically with the cursor update (shown for 1 example hour(s)):\nDELETE FROM \"tracking_hourly\""),
            std::string::npos) << e;
}

}  // namespace
}  // namespace sluice
