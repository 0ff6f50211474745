// DuckDB errors become Status codes that say what to do: a write-write conflict is Retry, a write refused in a
// read-only transaction or a bad statement is Invalid. Errors are produced by a real DuckDB.
#include <gtest/gtest.h>

#include "warehouse/duckdb/duckdb_internal.h"

namespace sluice {
namespace {

struct Db {
  duckdb_database db = nullptr;
  duckdb_connection a = nullptr, b = nullptr;
  Db() {
    duckdb_open(nullptr, &db);
    duckdb_connect(db, &a);
    duckdb_connect(db, &b);
  }
  ~Db() {
    duckdb_disconnect(&a);
    duckdb_disconnect(&b);
    duckdb_close(&db);
  }
  // Runs `sql` on `c`: Ok, or the Status its error maps to.
  static Status Run(duckdb_connection c, const char* sql) {
    duckdb_result r;
    Status st;
    if (duckdb_query(c, sql, &r) == DuckDBError)
      st = StatusFromDuckDb(duckdb_result_error_type(&r), duckdb_result_error(&r));
    duckdb_destroy_result(&r);
    return st;
  }
};

TEST(DuckDbErrorsTest, AWriteConflictIsRetryAndTheStatementsOwnFaultsAreInvalid) {
  Db d;
  ASSERT_TRUE(Db::Run(d.a, "CREATE TABLE t (k INT PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 0)").ok());
  ASSERT_TRUE(Db::Run(d.a, "BEGIN TRANSACTION; UPDATE t SET v = 1 WHERE k = 1").ok());
  ASSERT_TRUE(Db::Run(d.b, "BEGIN TRANSACTION").ok());
  Status conflict = Db::Run(d.b, "UPDATE t SET v = 2 WHERE k = 1");
  EXPECT_TRUE(conflict.IsRetry()) << conflict.ToString();
  (void)Db::Run(d.b, "ROLLBACK");
  ASSERT_TRUE(Db::Run(d.a, "COMMIT").ok());

  ASSERT_TRUE(Db::Run(d.b, "BEGIN TRANSACTION READ ONLY").ok());
  Status read_only = Db::Run(d.b, "INSERT INTO t VALUES (2, 0)");
  EXPECT_TRUE(read_only.IsInvalid()) << read_only.ToString();
  (void)Db::Run(d.b, "ROLLBACK");
  EXPECT_TRUE(Db::Run(d.a, "SELEC 1").IsInvalid());
  EXPECT_TRUE(Db::Run(d.a, "SELECT * FROM no_such_table").IsInvalid());
  Status duplicate = Db::Run(d.a, "INSERT INTO t VALUES (1, 5)");
  EXPECT_TRUE(duplicate.IsInvalid()) << duplicate.ToString();
}

}  // namespace
}  // namespace sluice
