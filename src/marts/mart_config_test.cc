#include "marts/mart_config.h"

#include <gtest/gtest.h>

#include "transform/transformer.h"

namespace sluice {
namespace {

constexpr const char* kBase = R"(streams:
  tracking:
    event_time: ts
    schema: { ts: timestamp, ad_id: int64, event: string }
    sources: [ { kind: http } ]
rollups:
  hourly: { stream: tracking, grain: hour, dimensions: [ad_id], measures: { n: count } }
  daily: { stream: tracking, grain: day, dimensions: [ad_id], measures: { n: count } }
)";

Result<std::vector<MartConfig>> Parse(const std::string& marts, std::unique_ptr<Config>& keep) {
  auto c = ParseConfig(std::string(kBase) + marts, "m.yaml");
  if (!c.ok()) return c.status();
  keep = std::make_unique<Config>(std::move(*c));
  auto t = Transformer::Create(*keep);
  if (!t.ok()) return t.status();
  return ParseMarts(*keep, (*t)->targets());
}

TEST(MartConfigTest, ReadsSourceBucketAndTable) {
  std::unique_ptr<Config> c;
  auto m = Parse(R"(marts:
  ads_hourly: { from: hourly, postgres: { url_env: PG_URL, table: marts.ads_hourly } }
  ads_daily: { from: daily, postgres: { url_env: PG_URL, table: ads_daily } }
)", c);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ((*m)[0].name, "ads_hourly");
  EXPECT_EQ((*m)[0].from, "hourly");
  EXPECT_EQ((*m)[0].bucket, "hour");
  EXPECT_FALSE((*m)[0].day_buckets);
  EXPECT_EQ((*m)[0].schema, "marts");
  EXPECT_EQ((*m)[0].table, "ads_hourly");
  EXPECT_EQ((*m)[0].url_env, "PG_URL");
  EXPECT_EQ((*m)[1].bucket, "day");
  EXPECT_TRUE((*m)[1].day_buckets);
  EXPECT_EQ((*m)[1].schema, "public");
}

TEST(MartConfigTest, ErrorsNameFileLineAndField) {
  std::unique_ptr<Config> c;
  auto m = Parse(R"(marts:
  a: { from: hourly2, postgres: { url_env: PG_URL, table: x.y } }
  b: { from: hourly, postgres: { table: "bad-name.t" } }
  c: { from: daily }
  d: { from: daily, postgres: { url_env: PG_URL, table: x.y }, extra: 1 }
)", c);
  ASSERT_FALSE(m.ok());
  const std::string& e = m.status().message();
  EXPECT_NE(e.find("m.yaml:10:14: marts.a.from: 'hourly2' is not a rollup or model"), std::string::npos) << e;
  EXPECT_NE(e.find("marts.b.postgres.url_env"), std::string::npos) << e;
  EXPECT_NE(e.find("marts.b.postgres.table: expected schema.name"), std::string::npos) << e;
  EXPECT_NE(e.find("marts.c.postgres: required"), std::string::npos) << e;
  EXPECT_NE(e.find("marts.d"), std::string::npos) << e;
  EXPECT_NE(e.find("is already the table of another mart"), std::string::npos) << e;
}

TEST(MartConfigTest, UnknownTopLevelKeyIsStillAnErrorAndMartsIsAccepted) {
  auto ok = ParseConfig(std::string(kBase) + "marts: {}\n", "m.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
  auto bad = ParseConfig(std::string(kBase) + "mart: {}\n", "m.yaml");
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace sluice
