#include "marts/mart_sql.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(MartSqlTest, WarehouseTypesMapToPostgresTypes) {
  const std::pair<const char*, const char*> cases[] = {
      {"BIGINT", "BIGINT"},          {"INTEGER", "BIGINT"},
      {"Int64", "BIGINT"},           {"UInt64", "BIGINT"},
      {"Nullable(Int32)", "BIGINT"}, {"HUGEINT", "NUMERIC"},
      {"DECIMAL(18,3)", "NUMERIC"},  {"DOUBLE", "DOUBLE PRECISION"},
      {"Float64", "DOUBLE PRECISION"}, {"VARCHAR", "TEXT"},
      {"LowCardinality(String)", "TEXT"}, {"TIMESTAMP", "TIMESTAMPTZ"},
      {"TIMESTAMPTZ", "TIMESTAMPTZ"}, {"DateTime64(6, 'UTC')", "TIMESTAMPTZ"},
      {"DATE", "DATE"},              {"BOOLEAN", "BOOLEAN"},
      {"INTERVAL", "INTERVAL"},      {"LIST", "JSONB"},
      {"INTEGER[]", "JSONB"},        {"STRUCT", "JSONB"},
      {"Array(String)", "JSONB"},    {"MAP", "JSONB"},
      {"UUID", "TEXT"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(PgTypeFor(in), want) << in;
}

TEST(MartSqlTest, CopyRowsEscapeSeparatorsAndNulls) {
  std::string out;
  AppendCopyRow({std::string("a\tb"), std::nullopt, std::string("back\\slash\nline"), std::string("[1, 2]"),
                 std::string("{'a': 1}")},
                {"TEXT", "BIGINT", "TEXT", "JSONB", "JSONB"}, out);
  // JSON text stays; an engine's own rendering of a nested value becomes a JSON string.
  EXPECT_EQ(out, "a\\tb\t\\N\tback\\\\slash\\nline\t[1, 2]\t\"{'a': 1}\"\n");
}

TEST(MartSqlTest, BucketsAreAUtcTimestamptzArray) {
  EXPECT_EQ(BucketArray({0, 3'600'000'000}), "{\"1970-01-01T00:00:00Z\",\"1970-01-01T01:00:00Z\"}");
  EXPECT_EQ(BucketArray({}), "{}");
}

TEST(MartSqlTest, DefinitionDigestIsStableAndDiscriminates) {
  EXPECT_EQ(DefinitionDigest("abc"), DefinitionDigest("abc"));
  EXPECT_NE(DefinitionDigest("abc"), DefinitionDigest("abd"));
  EXPECT_EQ(DefinitionDigest("").size(), 16u);
}

}  // namespace
}  // namespace sluice
