#include "transform/rollup_config.h"

#include <gtest/gtest.h>

#include "transform/transform_test_util.h"

namespace sluice {
namespace {

Result<std::vector<RollupConfig>> Parse(const std::string& rollups, std::unique_ptr<Config>& keep) {
  auto c = ParseConfig(std::string(testing::kStreamYaml) + rollups, "sluice.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  keep = std::make_unique<Config>(std::move(*c));
  return ParseRollups(*keep);
}

TEST(RollupConfigTest, ParsesTheDesignShape) {
  std::unique_ptr<Config> c;
  auto r = Parse(testing::kRollupsYaml, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const RollupConfig& h = (*r)[0];
  EXPECT_EQ(h.name, "tracking_hourly");
  EXPECT_EQ(h.stream->name, "tracking");
  EXPECT_EQ(h.grain, "hour");
  EXPECT_EQ(h.dimensions, (std::vector<std::string>{"ad_id", "website_id"}));
  ASSERT_EQ(h.measures.size(), 5u);
  EXPECT_EQ(h.measures[1].fn, MeasureFn::kSum);
  EXPECT_EQ(h.measures[1].column, "dur");
  EXPECT_EQ(h.measures[4].fn, MeasureFn::kApproxDistinct);
  EXPECT_EQ(h.pivot.column, "event");
  EXPECT_EQ(h.OutputColumns(), (std::vector<std::string>{"hour", "ad_id", "website_id", "events", "total_dur",
                                                         "max_dur", "min_dur", "uas", "start", "complete", "click"}));
  EXPECT_EQ((*r)[1].grain, "day");
}

TEST(RollupConfigTest, EveryMistakeIsReportedWithFileLineAndField) {
  std::unique_ptr<Config> c;
  auto r = Parse(R"(
rollups:
  a:
    stream: nope
    measures: { n: count }
  b:
    stream: tracking
    grain: week
    dimensions: [ad_id, adid]
    measures: { n: median(dur), s: sum(ua), ad_id: count }
    pivot: { column: evnt, values: [start] }
    extra: 1
)",
                 c);
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("sluice.yaml:11:13: rollups.a.stream: unknown stream 'nope'"), std::string::npos) << m;
  EXPECT_NE(m.find("sluice.yaml:15:12: rollups.b.grain: expected hour or day"), std::string::npos) << m;
  EXPECT_NE(m.find("sluice.yaml:16:25: rollups.b.dimensions: unknown column 'adid' of stream tracking"),
            std::string::npos) << m;
  EXPECT_NE(m.find("rollups.b.measures.n: expected count, sum(col)"), std::string::npos) << m;
  EXPECT_NE(m.find("rollups.b.measures.s: column 'ua' is string, not a number"), std::string::npos) << m;
  EXPECT_NE(m.find("rollups.b.measures.ad_id: output column 'ad_id' is declared twice"), std::string::npos) << m;
  EXPECT_NE(m.find("rollups.b.pivot.column: unknown column 'evnt'"), std::string::npos) << m;
  EXPECT_NE(m.find("rollups.b.extra: unknown field"), std::string::npos) << m;
}

TEST(RollupConfigTest, NoRollupsIsFine) {
  std::unique_ptr<Config> c;
  auto r = Parse("", c);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace sluice
