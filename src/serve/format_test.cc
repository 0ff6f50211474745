// What a user reads from `sluice query`, /api/query and the exports: every DuckDB type kind through a real
// reader connection, rendered as a table (cut to a terminal's width), CSV and JSON.
#include "serve/format.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

class FormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_format_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto w = DuckDbWarehouse::Open((dir_ / "wh.duckdb").string());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    warehouse_ = std::move(*w);
    auto r = warehouse_->OpenReaders(1);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    readers_ = *r;
  }
  void TearDown() override {
    readers_.reset();
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }
  QueryResult Read(const std::string& sql) {
    auto r = readers_->Query(sql, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : QueryResult{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<DuckDbWarehouse> warehouse_;
  std::shared_ptr<Readers> readers_;
};

// One value of every kind: scalars, nested (release assets are a list of structs), and the special ones.
constexpr const char* kEveryKind =
    "SELECT true AS bool, -5::TINYINT AS tiny, 70000::INTEGER AS int, 9007199254740993::BIGINT AS big, "
    "340282366920938463463374607431768211455::UHUGEINT AS huge, 12.50::DECIMAL(5,2) AS dec, 0.1::DOUBLE AS dbl, "
    "'é, \"quoted\"'::VARCHAR AS text, DATE '2026-11-30' AS day, TIMESTAMP '2026-01-02 03:04:05' AS ts, "
    "TIMESTAMPTZ '2026-01-02 03:04:05.25+02' AS tstz, TIME '12:30:00' AS t, INTERVAL '1 day 2 hours' AS iv, "
    "'550e8400-e29b-41d4-a716-446655440000'::UUID AS uuid, '\\x00\\xFFab'::BLOB AS blob, "
    "'{\"j\": [1, 2]}'::JSON AS js, [1, NULL, 3] AS list, {'a': 1, 'b': 'x'} AS struct, MAP {'k': 1.5} AS map, "
    "array_value(1, 2) AS arr, [{'name': 'nebula.tar.gz', 'download_count': 42}, {'name': 'ü.zip', "
    "'download_count': 0}] AS assets, 'b'::ENUM('a', 'b') AS enm, NULL::INT AS nothing";

TEST_F(FormatTest, EveryKindOfValueAsJson) {
  QueryResult r = Read(kEveryKind);
  auto rows = nlohmann::json::parse(FormatJson(r));
  ASSERT_EQ(rows.size(), 1u);
  const auto& v = rows[0];
  EXPECT_EQ(v["bool"], true);
  EXPECT_EQ(v["tiny"], -5);
  EXPECT_EQ(v["big"], 9007199254740993LL);
  EXPECT_EQ(v["dec"].dump(), "12.5");
  EXPECT_EQ(v["dbl"], 0.1);
  EXPECT_EQ(v["text"], "é, \"quoted\"");
  EXPECT_EQ(v["day"], "2026-11-30");
  EXPECT_EQ(v["ts"], "2026-01-02 03:04:05");
  EXPECT_EQ(v["tstz"], "2026-01-02T01:04:05.250000Z");  // an instant, in ISO-8601 UTC
  EXPECT_EQ(v["t"], "12:30:00");
  EXPECT_EQ(v["iv"], "1 day 02:00:00");
  EXPECT_EQ(v["uuid"], "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(v["blob"], "AP9hYg==");  // base64 of 00 FF 'a' 'b'
  EXPECT_EQ(v["js"], nlohmann::json::parse(R"({"j": [1, 2]})"));
  EXPECT_EQ(v["list"], nlohmann::json::parse("[1, null, 3]"));
  EXPECT_EQ(v["struct"], nlohmann::json::parse(R"({"a": 1, "b": "x"})"));
  EXPECT_EQ(v["map"], nlohmann::json::parse(R"({"k": 1.5})"));
  EXPECT_EQ(v["arr"], nlohmann::json::parse("[1, 2]"));
  EXPECT_EQ(v["assets"][1]["name"], "ü.zip");
  EXPECT_EQ(v["assets"][0]["download_count"], 42);
  EXPECT_EQ(v["enm"], "b");
  EXPECT_TRUE(v["nothing"].is_null());
  // Integers beyond 64 bits stay exact in the text (a JSON number; readers that parse into doubles round).
  EXPECT_NE(FormatJson(r).find("\"huge\":340282366920938463463374607431768211455,"), std::string::npos);
}

TEST_F(FormatTest, EveryKindOfValueAsCsv) {
  QueryResult r = Read(kEveryKind);
  std::istringstream csv(FormatCsv(r));
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  ASSERT_EQ(row.back(), '\r') << "RFC 4180 lines end in CRLF";
  row.pop_back();
  EXPECT_EQ(header.substr(0, 24), "bool,tiny,int,big,huge,d");
  // Nested values are JSON text, quoted for CSV; NULL is an empty field.
  EXPECT_NE(row.find(R"("[{""name"":""nebula.tar.gz"",""download_count"":42},{""name"":""ü.zip"",""download_count"":0}]")"),
            std::string::npos)
      << row;
  EXPECT_NE(row.find(R"("{""a"":1,""b"":""x""}")"), std::string::npos) << row;
  EXPECT_NE(row.find(R"("é, ""quoted""")"), std::string::npos) << row;
  EXPECT_NE(row.find(",2026-01-02T01:04:05.250000Z,"), std::string::npos) << row;
  EXPECT_NE(row.find(",AP9hYg==,"), std::string::npos) << row;
  EXPECT_EQ(row.substr(row.size() - 3), ",b,") << "the last field, NULL, is empty";
}

TEST_F(FormatTest, TheTableFitsTheTerminalAndCutsLongCellsWithAnEllipsis) {
  QueryResult r = Read(
      "SELECT 'acme/nebula' AS repo, [{'name': 'nebula-3.8.0-linux-amd64.tar.gz', 'download_count': 4242}, "
      "{'name': 'nebula-3.8.0-darwin-arm64.tar.gz', 'download_count': 17}] AS assets, 7 AS stars");
  std::string wide = FormatTable(r);
  EXPECT_NE(wide.find("\"download_count\":17}]"), std::string::npos) << "no limit: the whole JSON";
  std::string narrow = FormatTable(r, 60);
  std::istringstream lines(narrow);
  std::string line;
  while (std::getline(lines, line)) {
    size_t width = 0;
    for (unsigned char c : line) width += (c & 0xC0) != 0x80;
    EXPECT_LE(width, 60u) << line;
  }
  EXPECT_NE(narrow.find("[{\"name\":\"nebula-3.8.0-linux"), std::string::npos) << narrow;
  EXPECT_NE(narrow.find("\u2026"), std::string::npos) << narrow;
  EXPECT_NE(narrow.find("acme/nebula"), std::string::npos) << "short columns are left whole:\n" << narrow;
}

}  // namespace
}  // namespace sluice
