// Unit tests without a server: block encoding, error mapping, result parsing, the config section.
#include "warehouse/clickhouse/clickhouse_rows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/record_parser.h"
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
            "`_batch`, `_partition_index`, `_offset`) FORMAT Native");
  EXPECT_THAT(InsertSql("`db`.`raw_ev`", RawColumnsFor(c.streams[0]), BlockFormat::kRowBinary),
              ::testing::EndsWith(") FORMAT RowBinary"));
}

// The order is the raw table's sorting key (ts in whole seconds, _batch, _partition_index, _offset), so the server
// finds each block sorted; late rows are merged in wherever they fall.
TEST(ClickHouseRows, RowsAreOrderedByTheTableSortingKeyWhateverTheOrderRead) {
  Config c = testing::MakeConfig("/tmp");
  const StreamConfig& s = c.streams[0];
  auto b = std::make_unique<Batch>(&s);
  b->source = "ev.http";
  RecordParser parser(&s);
  struct In {
    std::string partition;
    int64_t offset;
    std::string ts;
  };
  // Within one second, micro-time order differs from (partition, offset) order.
  std::vector<In> in = {{"p1", 5, "2026-11-01T10:00:00.900Z"}, {"p0", 7, "2026-11-01T10:00:00.100Z"},
                        {"p0", 3, "2026-11-01T10:00:00.500Z"}, {"p1", 6, "2026-11-01T10:00:01Z"},
                        {"p0", 8, "2026-10-31T23:59:59Z"},     {"p1", 7, "2026-11-01T10:00:00.950Z"},
                        {"p0", 9, "2026-11-01T09:00:00Z"}};
  for (const auto& r : in)
    parser.Parse(R"({"ts":")" + r.ts + R"("})", b->PartitionIndex(r.partition), r.offset, r.offset + 1, *b);
  ASSERT_EQ(b->rows(), in.size());
  BlockPlan plan = PlanRawBlocks(*b);
  std::vector<std::string> order;
  for (uint32_t row : plan.order)
    order.push_back(b->partition_names[b->row_partition[row]] + ":" + std::to_string(b->row_offset[row]));
  EXPECT_EQ(order, (std::vector<std::string>{"p0:8", "p0:9", "p0:3", "p0:7", "p1:5", "p1:7", "p1:6"}));
  ASSERT_EQ(plan.blocks.size(), 2u);  // 2026-10-31, then 2026-11-01
  EXPECT_EQ(plan.blocks[0].rows(), 1u);
  EXPECT_EQ(plan.blocks[1].event_date, plan.blocks[0].event_date + 1);
}

TEST(ClickHouseRows, NativeBlocksAreColumnsOfValuesAfterACountOfColumnsAndRows) {
  Config c = testing::MakeConfig("/tmp");
  const StreamConfig& s = c.streams[0];
  auto b = testing::MakeBatch(s, 0, {R"({"ts":"2026-11-01T00:00:01Z","n":300,"tags":["ab"]})"});
  std::vector<RawColumn> columns = RawColumnsFor(s);
  std::vector<RawColumn> picked;
  for (const auto& col : columns)
    if (col.name == "ts" || col.name == "n" || col.name == "tags" || col.name == "_offset") picked.push_back(col);
  picked.push_back({"gone", "Tuple(Nullable(String), Array(Int8))", RawColumn::Source::kAbsent});
  auto blocks = EncodeRawBlocks(*b, picked);
  ASSERT_TRUE(blocks.ok()) << blocks.status().ToString();
  ASSERT_EQ(blocks->size(), 1u);
  auto bytes = [](std::initializer_list<int> v) {
    std::string out;
    for (int c : v) out += static_cast<char>(c);
    return out;
  };
  const std::string zero8(8, '\0');
  // clang-format off
  const std::string expected =
      bytes({5, 1}) +                                                          // 5 columns, 1 row
      bytes({2}) + "ts" + bytes({8}) + "DateTime" + bytes({0x01, 0x81, 0xe6, 0x6a}) +  // UInt32 seconds
      bytes({1}) + "n" + bytes({15}) + "Nullable(Int64)" + bytes({0}) +       // null map,
      bytes({0x2c, 0x01, 0, 0, 0, 0, 0, 0}) +                                 // then 300
      bytes({4}) + "tags" + bytes({23}) + "Array(Nullable(String))" +
      bytes({1, 0, 0, 0, 0, 0, 0, 0}) + bytes({0}) + bytes({2}) + "ab" +      // end offsets, null map, values
      bytes({7}) + "_offset" + bytes({5}) + "Int64" + zero8 +                 // offset 0
      bytes({4}) + "gone" + bytes({36}) + "Tuple(Nullable(String), Array(Int8))" +
      bytes({1, 0}) + zero8;  // defaults: NULL (null map 1, value ''), then an empty array (end offset 0)
  // clang-format on
  EXPECT_EQ((*blocks)[0].data, expected);
}

// The loader reserves its buffer from this estimate: a few rows in a batch that reserved room for a full cut
// must not map megabytes.
TEST(ClickHouseRows, TheBlockEstimateFollowsTheRecordsNotTheBatchCapacity) {
  Config c = testing::MakeConfig("/tmp");
  const StreamConfig& s = c.streams[0];
  auto b = std::make_unique<Batch>(&s);
  b->Reserve(1 << 20, 64 << 20);
  b->source = "ev.http";
  RecordParser parser(&s);
  const auto events = testing::Events(0, 3);
  for (int i = 0; i < 3; ++i) parser.Parse(events[i], b->PartitionIndex("p0"), i, i + 1, *b);
  const auto columns = RawColumnsFor(s);
  const size_t estimate = EstimateBlockBytes(*b, columns, b->rows());
  auto blocks = EncodeRawBlocks(*b, columns);
  ASSERT_TRUE(blocks.ok());
  EXPECT_GE(estimate, (*blocks)[0].data.size());
  EXPECT_LT(estimate, 16u << 10);
}

TEST(ClickHouseRows, ATableWithAColumnNativeCannotEncodeIsSentAsRowBinary) {
  Config c = testing::MakeConfig("/tmp");
  std::vector<RawColumn> columns = RawColumnsFor(c.streams[0]);
  EXPECT_EQ(FormatFor(columns), BlockFormat::kNative);
  columns.push_back({"added_by_hand", "LowCardinality(String)", RawColumn::Source::kAbsent});
  EXPECT_EQ(FormatFor(columns), BlockFormat::kRowBinary);
  auto b = testing::MakeBatch(c.streams[0], 0, testing::Events(0, 3));
  EXPECT_TRUE(EncodeRawBlocks(*b, columns, kMaxBlockRows, BlockFormat::kRowBinary).ok());
  EXPECT_TRUE(EncodeRawBlocks(*b, columns, kMaxBlockRows, BlockFormat::kNative).status().IsInvalid());
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
