// ClickHouseReaders on a real server, as the fixture's `reader` user (profile: readonly = 1,
// max_execution_time = 2, max_result_rows = 1000, result_overflow_mode = break): what people's SQL may do.
#include "warehouse/clickhouse/clickhouse_readers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "warehouse/clickhouse/clickhouse_test_util.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

class ClickHouseReadersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = ClickHouseTestCluster::Start(ClickHouseTestCluster::Layout::kSingle);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c).release();
    auto w = testing::OpenOn(*cluster_, 0, "readers");
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    Status st = (*w)->Execute(
        "CREATE TABLE t (d Date, s Nullable(String), a Array(Nullable(String)), g Tuple(Nullable(String), "
        "Nullable(Int64)), f Float64) ENGINE = MergeTree() PARTITION BY d ORDER BY d");
    ASSERT_TRUE(st.ok()) << st.ToString();
    st = (*w)->Execute(
        "INSERT INTO t VALUES ('2026-11-01', 'x\\ty', ['a', NULL, 'q\\'t'], ('FR', 7), 1.5), "
        "('2026-11-02', NULL, [], (NULL, NULL), nan)");
    ASSERT_TRUE(st.ok()) << st.ToString();
    auto readers = (*w)->OpenReaders(2);
    ASSERT_TRUE(readers.ok()) << readers.status().ToString();
    readers_ = new std::shared_ptr<Readers>(*readers);
    warehouse_ = w->release();
  }
  static void TearDownTestSuite() {
    delete readers_;
    delete warehouse_;
    delete cluster_;
  }
  Result<QueryResult> Read(const std::string& sql, ReadLimits limits = {}) { return (*readers_)->Query(sql, limits); }
  void ExpectRefused(const std::string& sql) {
    auto r = Read(sql);
    ASSERT_FALSE(r.ok()) << sql << " was accepted";
    EXPECT_TRUE(r.status().IsInvalid()) << sql << ": " << r.status().ToString();
  }

  static ClickHouseTestCluster* cluster_;
  static ClickHouseWarehouse* warehouse_;
  static std::shared_ptr<Readers>* readers_;
};
ClickHouseTestCluster* ClickHouseReadersTest::cluster_ = nullptr;
ClickHouseWarehouse* ClickHouseReadersTest::warehouse_ = nullptr;
std::shared_ptr<Readers>* ClickHouseReadersTest::readers_ = nullptr;

TEST_F(ClickHouseReadersTest, SelectAnswersTypedRowsWithNestedValuesAsJson) {
  auto r = Read("SELECT d, s, a, g, f, toInt64(1) AS i FROM t ORDER BY d");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->columns, (std::vector<std::string>{"d", "s", "a", "g", "f", "i"}));
  EXPECT_EQ(r->types, (std::vector<std::string>{"DATE", "VARCHAR", "LIST", "STRUCT", "DOUBLE", "BIGINT"}));
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0][1], "x\ty");
  EXPECT_EQ(r->rows[0][2], R"(["a",null,"q't"])");
  EXPECT_EQ(r->rows[0][3], R"(["FR",7])");
  EXPECT_EQ(r->rows[0][4], "1.5");
  EXPECT_EQ(r->rows[1][1], std::nullopt);
  EXPECT_EQ(r->rows[1][2], "[]");
  EXPECT_EQ(r->rows[1][3], "[null,null]");
  EXPECT_FALSE(r->truncated);
}

TEST_F(ClickHouseReadersTest, WritesDdlSettingsTableFunctionsAndSecondStatementsAreRefused) {
  for (const char* sql :
       {"INSERT INTO t (d, f) VALUES ('2026-01-01', 1)", "CREATE TABLE x (a Int8) ENGINE = Memory", "DROP TABLE t",
        "TRUNCATE TABLE t", "ALTER TABLE t DELETE WHERE 1", "ALTER TABLE t DROP PARTITION '2026-11-01'",
        "OPTIMIZE TABLE t FINAL", "SET readonly = 0", "SELECT 1 SETTINGS readonly = 0",
        "SELECT * FROM file('x', 'TSV', 'a String')", "SELECT * FROM url('http://127.0.0.1:1/', 'TSV', 'a String')",
        "SELECT * FROM numbers(3)", "SELECT 1; SELECT 2", "SELECT 1; DROP TABLE t", "SYSTEM SHUTDOWN"})
    ExpectRefused(sql);
  // Nothing changed.
  auto r = Read("SELECT count() FROM t");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Scalar(), "2");
}

TEST_F(ClickHouseReadersTest, RowsStopAtTheCapAndTheAnswerSaysItWasTruncated) {
  ReadLimits limits;
  limits.max_rows = 10;
  auto r = Read("SELECT number FROM system.numbers LIMIT 500", limits);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.size(), 10u);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(*r->rows[9][0], "9");
  // Exactly at the cap: not truncated.
  r = Read("SELECT number FROM system.numbers LIMIT 10", limits);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->truncated);
  // The profile's own bound (max_result_rows = 1000, break) cuts below ours: still marked truncated.
  r = Read("SELECT number FROM system.numbers LIMIT 100000");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->truncated);
  EXPECT_GE(r->rows.size(), 1000u);
}

TEST_F(ClickHouseReadersTest, AQueryPastItsTimeoutIsTimedOutAndStoppedOnTheServer) {
  ReadLimits limits;
  limits.timeout_us = 500'000;
  auto started = std::chrono::steady_clock::now();
  auto r = Read("SELECT count() FROM system.numbers", limits);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsTimedOut()) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  // Killed: no query of a reader left running.
  std::string running = "1";
  for (int i = 0; i < 50 && running != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    running = testing::Scalar(*warehouse_,
                              "SELECT count() FROM system.processes WHERE startsWith(query_id, 'sluice-reader-')");
  }
  EXPECT_EQ(running, "0");
  // The profile's max_execution_time (2 s) answers code 159: TimedOut too.
  r = Read("SELECT count() FROM system.numbers");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsTimedOut()) << r.status().ToString();
  EXPECT_THAT(r.status().message(), HasSubstr("Timeout exceeded"));
}

TEST_F(ClickHouseReadersTest, AReaderUserWithoutAReadonlyProfileIsRefusedAtOpen) {
  ClickHouseOptions o;
  o.url = cluster_->http_url(0);
  o.user = "default";
  auto r = ClickHouseReaders::Open(o, o, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalid());
  EXPECT_THAT(r.status().message(), HasSubstr("readonly = 1"));
}

// ClickHouse 18.16 has no query parameters: a value becomes a typed literal generated from its number, and
// only placeholders outside literals, quoted names and comments are replaced.
TEST(ClickHouseBindParamsTest, RendersTimestampsAsTypedLiteralsFromTheirNumbers) {
  auto sql = ClickHouseBindParams("SELECT '$1', `$2`, \"$1\" -- $1\n FROM t WHERE d >= $1 /* $2 */ AND d < $2",
                                  {QueryParam::Timestamp(1'793'491'200'000'000), QueryParam::Timestamp(-1'500'000)});
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(*sql,
            "SELECT '$1', `$2`, \"$1\" -- $1\n FROM t WHERE d >= toDateTime(1793491200, 'UTC') /* $2 */ AND d < "
            "toDateTime(-2, 'UTC')");
  EXPECT_EQ(*ClickHouseBindParams("SELECT 'it\\'s $1'", {}), "SELECT 'it\\'s $1'");
  EXPECT_FALSE(ClickHouseBindParams("SELECT $2", {QueryParam::Timestamp(0)}).ok());
  EXPECT_FALSE(ClickHouseBindParams("SELECT 1", {QueryParam::Timestamp(0)}).ok());
}

TEST_F(ClickHouseReadersTest, BindsTimestampParametersOnTheServer) {
  const int64_t nov2 = 1'793'577'600'000'000;  // 2026-11-02T00:00:00Z
  // A Date column compares as a DateTime through the dialect's AsTimestamp (18.16 compares the numbers).
  auto r = (*readers_)->Query("SELECT count(), min(d) FROM t WHERE toDateTime(d) >= $1 AND toDateTime(d) < $2", {},
                              {QueryParam::Timestamp(nov2), QueryParam::Timestamp(nov2 + 86'400'000'000)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0], (std::vector<std::optional<std::string>>{"1", "2026-11-02"}));
}

}  // namespace
}  // namespace sluice
