// Readers on DuckDB: the engine refuses everything but one statement that reads, bounds time and rows, shows
// committed data only, never waits for the loader, and renders every kind of value.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class DuckDbReadersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_readers_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "secret.txt") << "top secret\n";
    auto w = DuckDbWarehouse::Open((dir_ / "wh.duckdb").string());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    warehouse_ = std::move(*w);
    ASSERT_TRUE(warehouse_->Execute("CREATE TABLE ev AS SELECT range AS id FROM range(10)").ok());
    auto r = warehouse_->OpenReaders(2);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    readers_ = *r;
  }
  void TearDown() override {
    readers_.reset();
    warehouse_.reset();
    std::filesystem::remove_all(dir_);
  }
  Result<QueryResult> Read(const std::string& sql, ReadLimits limits = {}) { return readers_->Query(sql, limits); }
  std::string Scalar(const std::string& sql) {
    auto r = warehouse_->Query(sql);
    return r.ok() ? r->Scalar() : "error: " + r.status().message();
  }

  std::filesystem::path dir_;
  std::unique_ptr<DuckDbWarehouse> warehouse_;
  std::shared_ptr<Readers> readers_;
};

TEST_F(DuckDbReadersTest, RefusesWritesFilesExtensionsAndSettingsAndChangesNothing) {
  const std::string secret = (dir_ / "secret.txt").string();
  const std::string out = (dir_ / "out.csv").string();
  const std::vector<std::string> probes = {
      "INSERT INTO ev VALUES (99)",
      "WITH x AS (SELECT 1) INSERT INTO ev SELECT * FROM x",
      "EXPLAIN ANALYZE DELETE FROM ev",
      "DELETE FROM ev",
      "UPDATE ev SET id = 0",
      "DROP TABLE ev",
      "CREATE TABLE t AS SELECT 1",
      "CREATE TEMP TABLE t AS SELECT 1",
      "CREATE MACRO m(a) AS a",
      "SELECT $$'$$; CREATE TABLE t AS SELECT 1",
      "SELECT 1; DROP TABLE ev",
      "SELECT 1 /* ; */; DROP TABLE ev -- ;",
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('/etc/hostname')",
      "SELECT * FROM read_text('" + secret + "')",
      "SELECT * FROM read_blob('" + secret + "')",
      "SELECT * FROM read_json('" + secret + "')",
      "SELECT * FROM read_parquet('" + secret + "')",
      "SELECT * FROM glob('/etc/*')",
      "SELECT * FROM '" + secret + "'",
      "COPY ev TO '" + out + "'",
      "COPY (SELECT 1) TO '" + out + "'",
      "EXPORT DATABASE '" + (dir_ / "export").string() + "'",
      "ATTACH ':memory:' AS m",
      "ATTACH '" + (dir_ / "other.duckdb").string() + "' AS o",
      "DETACH wh",
      "INSTALL httpfs",
      "LOAD httpfs",
      "SET threads = 1",
      "SET enable_external_access = true",
      "RESET lock_configuration",
      "PRAGMA threads = 1",
      "CALL checkpoint()",
      "SELECT * FROM checkpoint()",
      "SELECT * FROM \"force_checkpoint\" ()",
      "SELECT nextval('s')",
      "BEGIN TRANSACTION",
      "COMMIT",
      "VACUUM",
      "CHECKPOINT",
      "",
      "   -- nothing",
  };
  ASSERT_TRUE(warehouse_->Execute("CREATE SEQUENCE s").ok());
  const std::string tables = Scalar("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM duckdb_tables()");
  ASSERT_NE(tables.find(",ev"), std::string::npos) << tables;
  for (const auto& sql : probes) {
    auto r = Read(sql);
    EXPECT_FALSE(r.ok()) << "was allowed: " << sql;
    if (!r.ok()) EXPECT_TRUE(r.status().IsInvalid()) << sql << ": " << r.status().ToString();
    EXPECT_EQ(Scalar("SELECT count(*) FROM ev"), "10") << "after " << sql;
    EXPECT_EQ(Scalar("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM duckdb_tables()"), tables)
        << "after " << sql;
    EXPECT_EQ(Scalar("SELECT count(*) FROM duckdb_databases() WHERE NOT internal"), "1") << "after " << sql;
    EXPECT_EQ(Scalar("SELECT current_setting('threads')"), Scalar("SELECT current_setting('threads')"));
    EXPECT_EQ(Scalar("SELECT current_setting('enable_external_access')"), "false") << "after " << sql;
    EXPECT_FALSE(std::filesystem::exists(out)) << "after " << sql;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "export")) << "after " << sql;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "other.duckdb")) << "after " << sql;
  }
  // The reader still answers after all of that, with the data unchanged.
  auto ok = Read("SELECT sum(id) FROM ev");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->Scalar(), "45");
}

TEST_F(DuckDbReadersTest, AllowsEveryKindOfRead) {
  for (const std::string sql : {"SELECT count(*) FROM ev", "FROM ev", "WITH x AS (SELECT 1) SELECT * FROM x",
                                "SHOW TABLES", "DESCRIBE ev", "SUMMARIZE ev", "EXPLAIN SELECT 1",
                                "EXPLAIN ANALYZE SELECT count(*) FROM ev", "VALUES (1), (2)", "TABLE ev",
                                "SELECT 'checkpoint(' AS text", "SELECT 1;", "  select 1 -- trailing comment"}) {
    auto r = Read(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
}

TEST_F(DuckDbReadersTest, CutsResultsAtMaxRowsWithoutMaterialisingThem) {
  const auto start = Clock::now();
  auto r = Read("SELECT * FROM range(1000000000)", ReadLimits{30'000'000, 1000});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.size(), 1000u);
  EXPECT_TRUE(r->truncated);
  EXPECT_LT(SecondsSince(start), 5.0) << "a billion rows were computed, not streamed";
  auto exact = Read("SELECT * FROM range(1000)", ReadLimits{30'000'000, 1000});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->rows.size(), 1000u);
  EXPECT_FALSE(exact->truncated) << "exactly max_rows rows is not truncated";
}

TEST_F(DuckDbReadersTest, InterruptsAQueryPastItsTimeoutAndTheConnectionStaysUsable) {
  const auto start = Clock::now();
  auto r = Read("SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = 7",
                ReadLimits{500'000, 100});
  EXPECT_TRUE(r.status().IsTimedOut()) << r.status().ToString();
  EXPECT_LT(SecondsSince(start), 5.0);
  // Both connections of the pool answer afterwards (the interrupted one included).
  for (int i = 0; i < 4; ++i) {
    auto again = Read("SELECT 42");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->Scalar(), "42");
  }
}

TEST_F(DuckDbReadersTest, SeesCommittedDataOnlyAndNeverDelaysTheLoader) {
  ASSERT_TRUE(warehouse_->Execute("BEGIN TRANSACTION; INSERT INTO ev VALUES (100)").ok());
  EXPECT_EQ(Read("SELECT count(*) FROM ev")->Scalar(), "10") << "an open load is invisible";
  ASSERT_TRUE(warehouse_->Execute("COMMIT").ok());
  EXPECT_EQ(Read("SELECT count(*) FROM ev")->Scalar(), "11");

  // A slow query on one reader: the loader commits, checkpoints, and the other reader answers meanwhile.
  std::thread slow([&] {
    (void)Read("SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = 7",
               ReadLimits{3'000'000, 100});
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = Clock::now();
  ASSERT_TRUE(warehouse_->Execute("INSERT INTO ev SELECT range FROM range(1000)").ok());
  EXPECT_LT(SecondsSince(start), 1.0) << "a commit waited for a reader";
  start = Clock::now();
  Status checkpoint = warehouse_->Execute("CHECKPOINT");  // what Idle() runs once the WAL is big
  EXPECT_TRUE(checkpoint.ok()) << checkpoint.ToString();
  EXPECT_LT(SecondsSince(start), 1.0) << "housekeeping waited for a reader";
  start = Clock::now();
  EXPECT_EQ(Read("SELECT count(*) FROM ev")->Scalar(), "1011");
  EXPECT_LT(SecondsSince(start), 1.0) << "a query waited for another";
  slow.join();
}

TEST_F(DuckDbReadersTest, RendersNestedAndSpecialValues) {
  auto r = Read(
      "SELECT [1, 2, NULL] AS l, {'a': 1, 'b': 'x\"y', 'c': [true]} AS s, MAP {'k': 1.5} AS m, "
      "NULL::INT[] AS n, 12.50::DECIMAL(5,2) AS d, TIMESTAMP '2026-01-02 03:04:05' AS ts, 0.1::DOUBLE AS f, "
      "1.0::DOUBLE AS one, INTERVAL 1 DAY AS i, DATE '2026-11-30' AS day, "
      "'550e8400-e29b-41d4-a716-446655440000'::UUID AS u, '{\"j\": 1}'::JSON AS j, "
      "[{'x': '{\"k\":2}'::JSON}] AS lj, 'é'::VARCHAR AS v, 340282366920938463463374607431768211455::UHUGEINT AS big, "
      "array_value(1, 2) AS arr, 'ab'::BLOB AS b, -5::TINYINT AS t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::map<std::string, std::string> got;
  for (size_t c = 0; c < r->columns.size(); ++c) got[r->columns[c]] = r->rows[0][c].value_or("NULL");
  EXPECT_EQ(got["l"], "[1,2,null]");
  EXPECT_EQ(got["s"], "{\"a\":1,\"b\":\"x\\\"y\",\"c\":[true]}");
  EXPECT_EQ(got["m"], "{\"k\":1.5}");
  EXPECT_EQ(got["n"], "NULL");
  EXPECT_EQ(got["d"], "12.50");
  EXPECT_EQ(got["ts"], "2026-01-02 03:04:05");
  EXPECT_EQ(got["f"], "0.1");
  EXPECT_EQ(got["one"], "1.0");
  EXPECT_EQ(got["i"], "1 day");
  EXPECT_EQ(got["day"], "2026-11-30");
  EXPECT_EQ(got["u"], "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(got["j"], "{\"j\": 1}");
  EXPECT_EQ(got["lj"], "[{\"x\":{\"k\":2}}]");
  EXPECT_EQ(got["v"], "é");
  EXPECT_EQ(got["big"], "340282366920938463463374607431768211455");
  EXPECT_EQ(got["arr"], "[1,2]");
  EXPECT_EQ(got["b"], "YWI=");  // base64
  EXPECT_EQ(got["t"], "-5");
  EXPECT_EQ(r->types[0], "LIST");
  EXPECT_EQ(r->types[1], "STRUCT");
  EXPECT_EQ(r->types[11], "JSON");
}

// Parameters are bound on the prepared statement: typed values, never text of the statement.
TEST_F(DuckDbReadersTest, BindsTimestampParameters) {
  ASSERT_TRUE(warehouse_
                  ->Execute("CREATE TABLE hits AS SELECT TIMESTAMP '2026-11-01 00:00:00' + to_hours(range) AS ts, "
                            "range AS n FROM range(48)")
                  .ok());
  const int64_t day = 86'400'000'000, nov1 = 1'793'491'200'000'000;  // 2026-11-01T00:00:00Z
  auto r = readers_->Query("SELECT count(*), min(n), max(n) FROM hits WHERE ts >= $1 AND ts < $2", {},
                           {QueryParam::Timestamp(nov1 + 3'600'000'000), QueryParam::Timestamp(nov1 + day)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0], (std::vector<std::optional<std::string>>{"23", "1", "23"}));
  // A DATE column compares with a bound timestamp; a '$1' inside a literal is text.
  r = readers_->Query("SELECT $1 AS t, '$1' AS s, DATE '2026-11-02' >= $1 AS after", {},
                      {QueryParam::Timestamp(nov1 + day)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0], (std::vector<std::optional<std::string>>{"2026-11-02 00:00:00", "$1", "true"}));
  // Placeholders and values must agree.
  for (auto params :
       {std::vector<QueryParam>{}, std::vector<QueryParam>{QueryParam::Timestamp(0), QueryParam::Timestamp(0)}}) {
    r = readers_->Query("SELECT count(*) FROM hits WHERE ts >= $1", {}, params);
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalid()) << r.status().ToString();
  }
  // A placeholder is not a dollar-quoted string that could hide a checkpoint() from the readers' check.
  r = readers_->Query("SELECT $1, checkpoint(), $2", {}, {QueryParam::Timestamp(0), QueryParam::Timestamp(0)});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checkpoint() is the loader's housekeeping"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace sluice
