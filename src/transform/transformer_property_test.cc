// Property test: whatever the event times (late arrivals included), the batch cuts, and where the process
// stopped between loading and transforming (or between two targets of one transform), every rollup and
// incremental model equals the same GROUP BY computed from scratch over raw: no row missing, none extra.
#include <gtest/gtest.h>

#include <random>

#include "transform/transform_test_util.h"

namespace sluice {
namespace {

using testing::TransformTest;

// The oracles are written by hand, independently of rollup_sql.cc.
constexpr const char* kHourlyOracle =
    "SELECT date_trunc('hour', ts) AS hour, ad_id, website_id, count(*) AS events, sum(dur) AS total_dur, "
    "max(dur) AS max_dur, min(dur) AS min_dur, approx_count_distinct(ua) AS uas, "
    "count(*) FILTER (WHERE event = 'start') AS start, count(*) FILTER (WHERE event = 'complete') AS complete, "
    "count(*) FILTER (WHERE event = 'click') AS click FROM raw_tracking GROUP BY 1, 2, 3";
constexpr const char* kDailyOracle =
    "SELECT date_trunc('day', ts) AS day, ad_id, count(*) AS events, avg(dur) AS avg_dur FROM raw_tracking "
    "GROUP BY 1, 2";
constexpr const char* kModelOracle =
    "SELECT date_trunc('hour', ts) AS hour, count(*) FILTER (WHERE event = 'click') AS clicks FROM raw_tracking "
    "GROUP BY 1";

class TransformerPropertyTest : public TransformTest {
 protected:
  // Empty when `table` and `oracle` hold the same rows (as multisets of distinct rows, both ways).
  std::string Diff(const std::string& table, const std::string& oracle) {
    std::string missing = Q("SELECT count(*) FROM ((" + std::string(oracle) + ") EXCEPT ALL (SELECT * FROM " + table + "))");
    std::string extra = Q("SELECT count(*) FROM ((SELECT * FROM " + table + ") EXCEPT ALL (" + oracle + "))");
    if (missing == "0" && extra == "0") return "";
    return table + ": " + missing + " row(s) missing, " + extra + " extra";
  }
};

TEST_F(TransformerPropertyTest, RollupsEqualAFromScratchGroupByAfterAnyHistory) {
  WriteModel("clicks", "-- sluice: time_column=hour\nSELECT hour, sum(click) AS clicks FROM {{ ref('tracking_hourly') }} "
                       "WHERE hour IN ({{ touched_hours }}) GROUP BY ALL");
  const std::string base = std::string(testing::kStreamYaml) + testing::kRollupsYaml + "models: models\n";
  // The same targets without the daily rollup and the model: a transformer built from it and run alone leaves
  // the state a crash between targets would (some cursors advanced, others not).
  const std::string partial = std::string(testing::kStreamYaml) +
                              "rollups:\n  tracking_hourly:\n    stream: tracking\n    grain: hour\n"
                              "    dimensions: [ad_id, website_id]\n"
                              "    pivot: { column: event, values: [start, complete, click] }\n"
                              "    measures: { events: count, total_dur: sum(dur), max_dur: max(dur), min_dur: "
                              "min(dur), uas: approx_distinct(ua) }\n";
  const char* kEvents[] = {"start", "firstQuartile", "complete", "click", "midpoint"};
  for (int seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::filesystem::remove(dir_ / "w.duckdb");
    std::mt19937_64 rng(seed);
    UseConfig(base);
    OpenWarehouse();
    auto full_config = std::move(config_);
    UseConfig(partial);
    auto partial_config = std::move(config_);
    config_ = std::move(full_config);
    auto transformer = MakeTransformer();
    ASSERT_TRUE(transformer);

    // A clock moving forward over ~30 hours; 15% of events arrive up to 10 hours late (past the 2h lateness).
    int64_t clock = *ParseIsoMicros("2024-05-01T22:00:00Z");
    int64_t offset = 0;
    int batches = 20 + static_cast<int>(rng() % 20);
    for (int b = 0; b < batches; ++b) {
      int n = 1 + static_cast<int>(rng() % 40);
      std::vector<std::string> records;
      for (int i = 0; i < n; ++i) {
        clock += static_cast<int64_t>(rng() % (6 * 60)) * kMicrosPerSecond * 10 / 3;
        int64_t t = clock;
        if (rng() % 100 < 15) t -= static_cast<int64_t>(rng() % (10 * 3600)) * kMicrosPerSecond;
        // Skew: ad 1 gets most of the traffic.
        int ad = rng() % 3 == 0 ? 1 + static_cast<int>(rng() % 5) : 1;
        records.push_back(Event(FormatIsoMicros(t), ad, static_cast<int>(rng() % 3), kEvents[rng() % 5],
                                "ua" + std::to_string(rng() % 7), static_cast<int>(rng() % 100)));
      }
      Load(records, offset);
      offset += n;
      switch (rng() % 6) {
        case 0:
        case 1:
          Transform(*transformer);  // transform after this batch
          break;
        case 2: {  // crash between targets: only some targets absorbed the batches
          std::swap(config_, partial_config);
          auto t = MakeTransformer();
          Transform(*t);
          std::swap(config_, partial_config);
          break;
        }
        case 3:  // crash and restart: a new process reopens the file
          transformer.reset();
          OpenWarehouse();
          transformer = MakeTransformer();
          break;
        default:  // crash between load and transform: nothing
          break;
      }
    }
    TransformReport last = Transform(*transformer);
    EXPECT_EQ(Diff("tracking_hourly", kHourlyOracle), "");
    EXPECT_EQ(Diff("tracking_daily", kDailyOracle), "");
    EXPECT_EQ(Diff("clicks", kModelOracle), "");
    EXPECT_EQ(Q("SELECT sum(events) FROM tracking_hourly"), std::to_string(offset));
    // And once more changes nothing.
    EXPECT_EQ(Transform(*transformer).tables_changed, 0);
    transformer.reset();
    warehouse_.reset();
    partial_config.reset();
    (void)last;
  }
}

}  // namespace
}  // namespace sluice
