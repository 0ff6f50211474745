// FormatXlsx read back as a spreadsheet would: a bold, frozen header row, numbers as numbers, dates and
// timestamps as Excel serial dates with a date format, booleans, NULLs as empty cells, text as shared strings,
// and what does not parse as its type kept as text.
#include "reports/xlsx_writer.h"

#include <gtest/gtest.h>

#include "reports/xlsx_test_reader.h"

namespace sluice {
namespace {

using testing::ReadXlsx;
using testing::XlsxSheet;

QueryResult Sample() {
  QueryResult r;
  r.columns = {"day", "ad_id", "revenue", "ratio", "seen", "seen_tz", "active", "name", "hits"};
  r.types = {"DATE",        "BIGINT",  "DECIMAL(10,2)", "DOUBLE",          "TIMESTAMP",
             "TIMESTAMPTZ", "BOOLEAN", "VARCHAR",       "Nullable(UInt64)"};
  r.rows = {
      {"2024-05-06", "42", "12.50", "0.25", "2024-05-06 12:00:00", "2024-05-06T18:00:00Z", "true",
       "Acme, \"the\" <best>", "7"},
      {"2024-05-07", "-3", "0.00", "1e-3", "2024-05-07 06:00:00.5", "infinity", "false", std::nullopt, std::nullopt}};
  return r;
}

TEST(XlsxWriterTest, HeaderIsBoldAndFrozenAndCellsAreTyped) {
  auto bytes = FormatXlsx(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_EQ(bytes->substr(0, 2), "PK") << "an xlsx file is a zip archive";
  auto sheet = ReadXlsx(*bytes);
  ASSERT_TRUE(sheet.ok()) << sheet.status().ToString();
  ASSERT_EQ(sheet->rows.size(), 3u);

  // Header: shared strings, in a bold style, frozen below row 1.
  ASSERT_EQ(sheet->rows[0].size(), 9u);
  std::vector<std::string> header;
  for (const auto& c : sheet->rows[0]) {
    EXPECT_EQ(c.type, "s") << c.ref;
    ASSERT_LT(c.style, static_cast<int>(sheet->style_bold.size()));
    EXPECT_TRUE(sheet->style_bold[c.style]) << c.ref << " is not bold";
    header.push_back(c.value);
  }
  EXPECT_EQ(header, Sample().columns);
  EXPECT_NE(sheet->sheet_xml.find("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"),
            std::string::npos)
      << sheet->sheet_xml;

  auto number = [&](const std::string& ref, const std::string& value) {
    const auto* c = sheet->Cell(ref);
    ASSERT_NE(c, nullptr) << ref;
    EXPECT_EQ(c->type, "") << ref << " should be a number";
    EXPECT_EQ(c->value, value) << ref;
    EXPECT_FALSE(sheet->style_bold[c->style]) << ref;
  };
  auto format_of = [&](const std::string& ref) { return sheet->style_format.at(sheet->Cell(ref)->style); };
  // 2024-05-06 is Excel serial 45418 (days since 1899-12-30).
  number("A2", "45418");
  EXPECT_EQ(format_of("A2"), "yyyy-mm-dd");
  number("B2", "42");
  number("C2", "12.5");
  number("D2", "0.25");
  number("E2", "45418.5");
  EXPECT_EQ(format_of("E2"), "yyyy-mm-dd hh:mm:ss");
  number("F2", "45418.75");  // 18:00 UTC
  EXPECT_EQ(sheet->Cell("G2")->type, "b");
  EXPECT_EQ(sheet->Cell("G2")->value, "1");
  EXPECT_EQ(sheet->Cell("H2")->type, "s");
  EXPECT_EQ(sheet->Cell("H2")->value, "Acme, \"the\" <best>");
  number("I2", "7");  // ClickHouse's Nullable(UInt64) is a number too

  number("A3", "45419");
  number("B3", "-3");
  number("C3", "0");
  number("D3", "0.001");
  EXPECT_EQ(sheet->Cell("G3")->value, "0");
  // An "infinity" timestamp is not a date Excel can show: kept as text, not dropped.
  EXPECT_EQ(sheet->Cell("F3")->type, "s");
  EXPECT_EQ(sheet->Cell("F3")->value, "infinity");
  // NULLs are empty cells.
  EXPECT_EQ(sheet->Cell("H3"), nullptr);
  EXPECT_EQ(sheet->Cell("I3"), nullptr);
}

TEST(XlsxWriterTest, SameRowsAndCreationTimeGiveTheSameBytes) {
  // A retried report slot lands nothing new when its rows did not change (put-if-absent compares bytes).
  XlsxOptions o;
  o.created = 1'714'975'200;
  auto a = FormatXlsx(Sample(), o);
  auto b = FormatXlsx(Sample(), o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  QueryResult other = Sample();
  other.rows[0][1] = "43";
  auto c = FormatXlsx(other, o);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
}

TEST(XlsxWriterTest, EmptyResultStillHasItsHeader) {
  QueryResult r;
  r.columns = {"a", "b"};
  r.types = {"BIGINT", "VARCHAR"};
  auto bytes = FormatXlsx(r);
  ASSERT_TRUE(bytes.ok());
  auto sheet = ReadXlsx(*bytes);
  ASSERT_TRUE(sheet.ok());
  ASSERT_EQ(sheet->rows.size(), 1u);
  EXPECT_EQ(sheet->rows[0].size(), 2u);
  EXPECT_EQ(sheet->Cell("B1")->value, "b");
}

TEST(XlsxWriterTest, ColumnKindsFollowDuckDbAndClickHouseTypeNames) {
  for (const char* t : {"BIGINT", "HUGEINT", "DECIMAL(18,3)", "DOUBLE", "FLOAT", "UBIGINT", "Int32", "UInt8", "Float64",
                        "Decimal(9, 2)", "Nullable(Int64)", "INTEGER", "INT8"})
    EXPECT_EQ(XlsxColumnKind(t), 'n') << t;
  for (const char* t : {"DATE", "Date", "Date32", "Nullable(Date)"}) EXPECT_EQ(XlsxColumnKind(t), 'd') << t;
  for (const char* t : {"TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP_MS", "DateTime", "DateTime64(3)"})
    EXPECT_EQ(XlsxColumnKind(t), 't') << t;
  for (const char* t : {"BOOLEAN", "Bool"}) EXPECT_EQ(XlsxColumnKind(t), 'b') << t;
  for (const char* t : {"VARCHAR", "String", "LowCardinality(String)", "JSON", "LIST", "INTERVAL", "UUID", "BLOB"})
    EXPECT_EQ(XlsxColumnKind(t), 's') << t;
}

}  // namespace
}  // namespace sluice
