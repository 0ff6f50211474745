#include "transform/models.h"

#include <gtest/gtest.h>

#include "core/time.h"
#include "transform/transform_test_util.h"

namespace sluice {
namespace {

class ModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ParseConfig(std::string(testing::kStreamYaml) + testing::kRollupsYaml, "t.yaml");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<Config>(std::move(*c));
    rollups_ = std::move(*ParseRollups(*config_));
  }
  void Add(const std::string& name, const std::string& sql) {
    auto m = ParseModel(name, "models/" + name + ".sql", sql);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    models_.push_back(*m);
  }
  std::string Order() {
    auto o = OrderTargets(*config_, rollups_, models_);
    if (!o.ok()) return o.status().message();
    std::string s;
    for (const auto& t : *o) s += (s.empty() ? "" : ",") + t.name;
    return s;
  }
  std::unique_ptr<Config> config_;
  std::vector<RollupConfig> rollups_;
  std::vector<Model> models_;
};

TEST_F(ModelsTest, HeaderRefsAndRendering) {
  auto m = ParseModel("ctr", "models/ctr.sql",
                      "-- sluice: time_column=hour\nSELECT hour, sum(click) / sum(start) AS ctr FROM {{ ref('tracking_hourly') }}"
                      " JOIN {{ref(\"tracking\")}} USING (x) WHERE hour IN ({{ touched_hours }}) GROUP BY ALL;\n");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->time_column, "hour");
  EXPECT_EQ(m->refs, (std::vector<std::string>{"tracking_hourly", "tracking"}));
  std::string sql = RenderModel(*m, [&](const std::string& r) { return RefTable(*config_, r); },
                                {*ParseIsoMicros("2024-05-01T10:00:00Z")}, DialectFor("duckdb"));
  EXPECT_EQ(sql,
            "-- sluice: time_column=hour\nSELECT hour, sum(click) / sum(start) AS ctr FROM \"tracking_hourly\" JOIN "
            "\"raw_tracking\" USING (x) WHERE hour IN (TIMESTAMP '2024-05-01 10:00:00') GROUP BY ALL");
  EXPECT_NE(RenderModel(*m, [](const std::string& r) { return r; }, {}, DialectFor("duckdb")).find("IN (NULL::TIMESTAMP)"),
            std::string::npos);
  EXPECT_FALSE(ParseModel("x", "x.sql", "-- sluice: grain=hour\nSELECT 1").ok());
  EXPECT_FALSE(ParseModel("x", "x.sql", "  \n").ok());
}

TEST_F(ModelsTest, TargetsComeAfterWhatTheyRead) {
  Add("c", "SELECT * FROM {{ ref('b') }}");
  Add("a", "SELECT * FROM {{ ref('tracking_hourly') }}");
  Add("b", "SELECT * FROM {{ ref('a') }} JOIN {{ ref('tracking') }}");
  EXPECT_EQ(Order(), "tracking_hourly,tracking_daily,a,b,c");
}

TEST_F(ModelsTest, CycleIsAnErrorNamingTheChain) {
  Add("a", "SELECT * FROM {{ ref('b') }}");
  Add("b", "SELECT * FROM {{ ref('c') }}");
  Add("c", "SELECT * FROM {{ ref('a') }}");
  EXPECT_EQ(Order(), "model cycle: a -> b -> c -> a");
  models_.clear();
  Add("self", "SELECT * FROM {{ ref('self') }}");
  EXPECT_EQ(Order(), "model cycle: self -> self");
}

TEST_F(ModelsTest, MissingRefIsAnErrorNamingTheChain) {
  Add("a", "SELECT * FROM {{ ref('b') }}");
  Add("b", "SELECT * FROM {{ ref('tracking_hourly') }}, {{ ref('nope') }}");
  EXPECT_EQ(Order(), "model b (models/b.sql): ref('nope') is not a model, rollup or stream (a -> b -> nope)");
}

TEST_F(ModelsTest, NamesMustNotCollide) {
  Add("tracking_hourly", "SELECT 1");
  EXPECT_NE(Order().find("same name as a rollup"), std::string::npos);
}

}  // namespace
}  // namespace sluice
