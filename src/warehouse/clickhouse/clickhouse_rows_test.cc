// Unit tests without a server: block encoding, error mapping, result parsing, the config section.
#include "warehouse/clickhouse/clickhouse_rows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "warehouse/clickhouse/clickhouse_client.h"
#include "warehouse/clickhouse/clickhouse_readers.h"
#include "warehouse/clickhouse/clickhouse_test_util.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

TEST(ClickHouseRows, BlocksAreTheSameBytesForABatchRebuiltTheSameWayAndCutPerEventDay) {
  Config c = testing::MakeConfig("/tmp");
  const StreamConfig& s = c.streams[0];
  auto events = testing::Events(0, 25, 10);    // days 1, 2, 3: 10, 10, 5 events
  std::reverse(events.begin(), events.end());  // read out of event order
  auto a = testing::MakeBatch(s, 0, events);
  auto b = testing::MakeBatch(s, 0, events);
  auto columns = RawColumnsFor(s);
  auto ba = EncodeRawBlocks(*a, columns, 4);
  auto bb = EncodeRawBlocks(*b, columns, 4);
  ASSERT_TRUE(ba.ok() && bb.ok());
  ASSERT_EQ(ba->size(), bb->size());
  std::vector<size_t> rows;
  for (size_t i = 0; i < ba->size(); ++i) {
    EXPECT_EQ((*ba)[i].data, (*bb)[i].data);
    rows.push_back((*ba)[i].rows);
  }
  // At most 4 rows a block, never two days in one.
  EXPECT_EQ(rows, (std::vector<size_t>{4, 4, 2, 4, 4, 2, 4, 1}));
  EXPECT_EQ((*ba)[0].event_date + 2, (*ba).back().event_date);
}

TEST(ClickHouseRows, RowBinaryValuesAndDefaults) {
  std::string out;
  RowBinaryWriter w(out);
  w.VarUInt(300);
  w.String("ab");
  EXPECT_EQ(out, std::string("\xAC\x02\x02"
                             "ab",
                             5));
  out.clear();
  ASSERT_TRUE(WriteDefault(w, "Tuple(Nullable(String), Array(Int64), Int64, Date, DateTime)").ok());
  EXPECT_EQ(out, std::string("\x01\x00"
                             "\0\0\0\0\0\0\0\0"
                             "\0\0"
                             "\0\0\0\0",
                             16));
  EXPECT_TRUE(WriteDefault(w, "Map(String, String)").IsInvalid());
}

TEST(ClickHouseRows, InsertNamesEveryColumn) {
  Config c = testing::MakeConfig("/tmp", "      items: [ { sku: string } ]\n");
  std::string sql = InsertSql("`db`.`raw_ev`", RawColumnsFor(c.streams[0]));
  EXPECT_EQ(sql,
            "INSERT INTO `db`.`raw_ev` (`ts`, `kind`, `n`, `actor`, `tags`, `items.sku`, `event_date`, `_extra`, "
            "`_batch_id`, `_source`, `_partition`, `_offset`) FORMAT RowBinary");
}

TEST(ClickHouseClientErrors, CodesMapToWhatTheCallerShouldDo) {
  auto code = [](int http, const std::string& body) { return ClickHouseError(http, body, "q").code(); };
  EXPECT_EQ(code(500, "Code: 319, e.displayText() = DB::Exception: Unknown status"), StatusCode::kRetry);
  EXPECT_EQ(code(500, "Code: 999, e.displayText() = Coordination::Exception: Session expired"), StatusCode::kRetry);
  EXPECT_EQ(code(500, "Code: 242, e.displayText() = Table is in readonly mode"), StatusCode::kRetry);
  EXPECT_EQ(code(500, "Code: 159, e.displayText() = Timeout exceeded"), StatusCode::kTimedOut);
  EXPECT_EQ(code(400, "Code: 62, e.displayText() = Syntax error"), StatusCode::kInvalid);
  EXPECT_EQ(code(404, "Code: 60, e.displayText() = Table x doesn't exist"), StatusCode::kInvalid);
  EXPECT_EQ(code(500, "Code: 164, e.displayText() = Cannot execute query in readonly mode"), StatusCode::kInvalid);
  EXPECT_EQ(code(500, "Code: 57, e.displayText() = Table exists"), StatusCode::kAlreadyExists);
  EXPECT_EQ(code(500, "Code: 243, e.displayText() = Not enough space"), StatusCode::kIo);
  EXPECT_EQ(code(500, "Code: 1234, e.displayText() = new"), StatusCode::kInternal);
  EXPECT_EQ(code(502, "Bad gateway"), StatusCode::kRetry);
}

TEST(ClickHouseClientResults, TsvWithNamesAndTypesKeepsNullsEscapesAndNestedText) {
  auto r = ParseTsvWithNamesAndTypes("a\tb\tc\nString\tNullable(Int64)\tArray(String)\nx\\ty\t\\N\t['q\\'t']\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->types[1], "Nullable(Int64)");
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_EQ(r->rows[0][0], "x\ty");
  EXPECT_EQ(r->rows[0][1], std::nullopt);
  EXPECT_EQ(r->rows[0][2], "['q\\'t']");
  EXPECT_EQ(ClickHouseValueToJson(R"([('FR',NULL),('a\'b',2)])"), R"([["FR",null],["a'b",2]])");
  EXPECT_EQ(ClickHouseValueToJson("[nan,1.5]"), R"(["nan",1.5])");
  EXPECT_EQ(ReaderTypeName("Nullable(Int64)"), "BIGINT");
  EXPECT_EQ(ReaderTypeName("Array(Nullable(String))"), "LIST");
}

TEST(ClickHouseConfig, TheWarehouseSectionIsCheckedWithFileLineAndField) {
  auto ok = ParseConfig(
      "warehouse: { kind: clickhouse, url: http://127.0.0.1:8123, database: sluice, cluster: c1, user_env: U, "
      "password_env: P, reader_user_env: RU, reader_password_env: RP }\n",
      "s.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->warehouse_cluster, "c1");
  EXPECT_EQ(ok->warehouse_password_env, "P");
  EXPECT_EQ(ok->warehouse_reader_user_env, "RU");
  auto bad =
      ParseConfig("warehouse:\n  kind: clickhouse\n  url: 127.0.0.1:8123\n  database: \"a-b\"\n  path: x\n", "s.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("s.yaml:3:8: warehouse.url"));
  EXPECT_THAT(bad.status().message(), HasSubstr("s.yaml:4:13: warehouse.database"));
  EXPECT_THAT(bad.status().message(), HasSubstr("path"));
  auto missing = ParseConfig("warehouse: { kind: clickhouse }\n", "s.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("url"));
}

}  // namespace
}  // namespace sluice
