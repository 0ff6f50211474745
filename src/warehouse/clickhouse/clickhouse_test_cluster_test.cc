// Proves ClickHouseTestCluster, and pins down the ClickHouse 18.16 (Debian bookworm) behaviour that the
// ClickHouse backend relies on: each test fails if its fact stops holding. README.md in this folder sums up
// what these tests establish.
#include "warehouse/clickhouse/clickhouse_test_cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Layout = ClickHouseTestCluster::Layout;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs SQL that must succeed and returns its output without the trailing newline.
std::string Sql(const ClickHouseTestCluster& c, int server, const std::string& sql, const std::string& params = "",
                const std::string& data = "") {
  Result<std::string> r = c.Query(server, sql, params, data);
  EXPECT_TRUE(r.ok()) << sql << "\n  -> " << r.status().message();
  return r.ok() ? Trim(*r) : "<error>";
}

// Runs SQL that must fail and returns ClickHouse's error text.
std::string Refused(const ClickHouseTestCluster& c, int server, const std::string& sql, const std::string& params = "",
                    const std::string& data = "") {
  Result<std::string> r = c.Query(server, sql, params, data);
  EXPECT_FALSE(r.ok()) << sql << " was accepted";
  EXPECT_FALSE(!r.ok() && r.status().IsRetry()) << r.status().message();
  return r.ok() ? "" : r.status().message();
}

int64_t Count(const ClickHouseTestCluster& c, int server, const std::string& from, const std::string& params = "") {
  std::string out = Sql(c, server, "SELECT count() FROM " + from, params);
  return out == "<error>" ? -1 : std::stoll(out);
}

// ---------------------------------------------------------------------------------------------------------
// The fixture's failure modes: clear errors, no hang.

std::string Script(const std::string& name, const std::string& body) {
  std::string path = ::testing::TempDir() + "/" + name + "-" + std::to_string(getpid());
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

TEST(ClickHouseTestClusterStart, MissingBinaryIsNotFound) {
  ClickHouseTestCluster::Options options;
  options.clickhouse_server = "/nonexistent/clickhouse-server";
  auto c = ClickHouseTestCluster::Start(options);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsNotFound()) << c.status().message();
}

TEST(ClickHouseTestClusterStart, ServerExitingAtStartIsReportedWithItsLog) {
  ClickHouseTestCluster::Options options;
  options.clickhouse_server = Script("exits", "echo 'cannot bind: boom' >&2; exit 70");
  auto started = std::chrono::steady_clock::now();
  auto c = ClickHouseTestCluster::Start(options);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("exited at start"));
  EXPECT_THAT(c.status().message(), HasSubstr("cannot bind: boom"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(ClickHouseTestClusterStart, ServerNeverReadyTimesOutWithItsLog) {
  ClickHouseTestCluster::Options options;
  options.clickhouse_server = Script("hangs", "echo 'still starting'; exec sleep 60");
  options.start_timeout = std::chrono::seconds(1);
  auto started = std::chrono::steady_clock::now();
  auto c = ClickHouseTestCluster::Start(options);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsTimedOut()) << c.status().message();
  EXPECT_THAT(c.status().message(), HasSubstr("still starting"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));  // the sleeper was stopped
}

// ---------------------------------------------------------------------------------------------------------
// One server (no ZooKeeper): formats, partitions, engines, readers.

// A suite whose tests share the servers of one layout, started once for the suite.
template <Layout kLayout>
class LayoutSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = std::chrono::steady_clock::now();
    auto c = ClickHouseTestCluster::Start(kLayout);
    ASSERT_TRUE(c.ok()) << c.status().message();
    ch_ = std::move(*c).release();
    start_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  static void TearDownTestSuite() {
    delete ch_;
    ch_ = nullptr;
  }
  void SetUp() override {
    if (ch_ == nullptr) GTEST_SKIP() << "the servers did not start";
  }
  const ClickHouseTestCluster& ch() { return *ch_; }
  static inline ClickHouseTestCluster* ch_ = nullptr;
  static inline double start_seconds_ = 0;  // how long the layout took to start
};

class SingleServer : public LayoutSuite<Layout::kSingle> {};

// The raw-table shape of DESIGN.md: a day partition, event-time order, nullable, list and struct columns.
constexpr const char* kRawColumns =
    "(event_date Date, event_time DateTime, ad_id Int64, country Nullable(String), tags Array(String), "
    "geo Tuple(String, String), n Nested(k String, v Int64))";

TEST_F(SingleServer, ListensOnLoopbackAndAnswersVersion18_16) {
  EXPECT_THAT(ch().http_url(0), StartsWith("http://127.0.0.1:"));
  EXPECT_THAT(Sql(ch(), 0, "SELECT version()"), StartsWith("18.16."));
  // The fixture sets <timezone>UTC</timezone> (reported as Etc/UTC), whatever the machine's zone.
  EXPECT_EQ(Sql(ch(), 0, "SELECT toUnixTimestamp(toDateTime('1970-01-02 00:00:00'))"), "86400");
  EXPECT_EQ(Sql(ch(), 0, "SELECT toString(toDateTime(0))"), "0000-00-00 00:00:00");  // epoch 0 renders as zero
  EXPECT_EQ(ch().cluster_name(), "");
  EXPECT_EQ(ch().zookeeper_address(), "");
}

TEST_F(SingleServer, MergeTreeByDayTakesJSONEachRowWithNullableArrayTupleNested) {
  Sql(ch(), 0,
      std::string("CREATE TABLE json_raw ") + kRawColumns +
          " ENGINE = MergeTree() PARTITION BY event_date ORDER BY event_time");
  // A Tuple is a JSON array; a Nested column is one array per field, named "n.k", "n.v".
  std::string rows =
      R"({"event_date":"2026-11-01","event_time":"2026-11-01 10:00:00","ad_id":1,"country":null,"tags":["a","b"],"geo":["FR","Paris"],"n.k":["x"],"n.v":[1]})"
      "\n"
      R"({"event_date":"2026-11-02","event_time":"2026-11-02 11:00:00","ad_id":2,"country":"FR","tags":[],"geo":["US","NY"],"n.k":[],"n.v":[]})";
  Sql(ch(), 0, "INSERT INTO json_raw FORMAT JSONEachRow", "", rows);
  // Int64 comes back quoted (output_format_json_quote_64bit_integers = 1 by default).
  EXPECT_EQ(
      Sql(ch(), 0, "SELECT * FROM json_raw ORDER BY event_time FORMAT JSONEachRow"),
      R"({"event_date":"2026-11-01","event_time":"2026-11-01 10:00:00","ad_id":"1","country":null,"tags":["a","b"],"geo":["FR","Paris"],"n.k":["x"],"n.v":["1"]})"
      "\n"
      R"({"event_date":"2026-11-02","event_time":"2026-11-02 11:00:00","ad_id":"2","country":"FR","tags":[],"geo":["US","NY"],"n.k":[],"n.v":[]})");
  EXPECT_EQ(Sql(ch(), 0, "SELECT partition, partition_id FROM system.parts WHERE table = 'json_raw' ORDER BY 1"),
            "2026-11-01\t20261101\n2026-11-02\t20261102");
  // Epoch seconds are accepted for DateTime too.
  Sql(ch(), 0, "INSERT INTO json_raw (event_date, event_time, ad_id) FORMAT JSONEachRow", "",
      R"({"event_date":"2026-11-03","event_time":1793700000,"ad_id":3})");
  EXPECT_EQ(Sql(ch(), 0, "SELECT toString(event_time) FROM json_raw WHERE ad_id = 3"), "2026-11-03 10:00:00");
}

TEST_F(SingleServer, JSONEachRowNestedObjectsNeedImportNestedJson) {
  Sql(ch(), 0, "CREATE TABLE json_nested (id UInt64, n Nested(k String, v Int64)) ENGINE = MergeTree ORDER BY id");
  std::string row = R"({"id":1,"n":{"k":["a"],"v":[7]}})";
  EXPECT_THAT(Refused(ch(), 0, "INSERT INTO json_nested FORMAT JSONEachRow", "", row), HasSubstr("Unknown field"));
  Sql(ch(), 0, "INSERT INTO json_nested FORMAT JSONEachRow", "input_format_import_nested_json=1", row);
  EXPECT_EQ(Sql(ch(), 0, "SELECT n.k, n.v FROM json_nested"), "['a']\t[7]");
}

TEST_F(SingleServer, JSONEachRowOmittedFieldsGetTypeDefaultsNotColumnDefaults) {
  Sql(ch(), 0,
      "CREATE TABLE json_defaults (id UInt64, d UInt64 DEFAULT id * 10, s Nullable(String)) "
      "ENGINE = MergeTree ORDER BY id");
  Sql(ch(), 0, "INSERT INTO json_defaults FORMAT JSONEachRow", "", R"({"id":4})");
  // 18.16 fills an omitted field with its type's default (0, NULL), not the column's DEFAULT expression...
  EXPECT_EQ(Sql(ch(), 0, "SELECT id, d, s FROM json_defaults"), "4\t0\t\\N");
  // ...and has no setting to change that (input_format_defaults_for_omitted_fields came in 19.x).
  EXPECT_THAT(Refused(ch(), 0, "SELECT 1", "input_format_defaults_for_omitted_fields=1"),
              HasSubstr("Unknown setting input_format_defaults_for_omitted_fields"));
  EXPECT_EQ(Sql(ch(), 0, "SELECT count() FROM system.settings WHERE name = 'input_format_defaults_for_omitted_fields'"),
            "0");
  // An unknown field is an error unless input_format_skip_unknown_fields = 1.
  EXPECT_THAT(Refused(ch(), 0, "INSERT INTO json_defaults FORMAT JSONEachRow", "", R"({"id":5,"extra":1})"),
              HasSubstr("Unknown field"));
  Sql(ch(), 0, "INSERT INTO json_defaults FORMAT JSONEachRow", "input_format_skip_unknown_fields=1",
      R"({"id":5,"extra":1})");
  EXPECT_EQ(Count(ch(), 0, "json_defaults"), 2);
}

TEST_F(SingleServer, MergeTreeTakesTSV) {
  Sql(ch(), 0,
      std::string("CREATE TABLE tsv_raw ") + kRawColumns +
          " ENGINE = MergeTree() PARTITION BY event_date ORDER BY event_time");
  Sql(ch(), 0, "INSERT INTO tsv_raw FORMAT TSV", "",
      "2026-11-02\t2026-11-02 10:00:00\t3\t\\N\t['c','d']\t('DE','Berlin')\t['y']\t[2]\n");
  EXPECT_EQ(Sql(ch(), 0, "SELECT * FROM tsv_raw"),
            "2026-11-02\t2026-11-02 10:00:00\t3\t\\N\t['c','d']\t('DE','Berlin')\t['y']\t[2]");
}

// RowBinary: little-endian fixed-width numbers, LEB128 lengths, a 0/1 null byte before a Nullable value.
class RowBinary {
 public:
  template <typename T>
  RowBinary& Fixed(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);  // x86-64 is little-endian, like the format
    return *this;
  }
  RowBinary& Varint(uint64_t n) {
    do {
      uint8_t b = n & 0x7f;
      n >>= 7;
      out_.push_back(static_cast<char>(n ? b | 0x80 : b));
    } while (n);
    return *this;
  }
  RowBinary& Str(const std::string& s) {
    Varint(s.size());
    out_ += s;
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

TEST_F(SingleServer, MergeTreeTakesRowBinary) {
  Sql(ch(), 0,
      std::string("CREATE TABLE rowbinary_raw ") + kRawColumns +
          " ENGINE = MergeTree() PARTITION BY event_date ORDER BY event_time");
  RowBinary b;
  b.Fixed<uint16_t>(20757);       // Date: days since 1970-01-01 (2026-10-31)
  b.Fixed<uint32_t>(1793700000);  // DateTime: epoch seconds (2026-11-03 10:00:00 UTC)
  b.Fixed<int64_t>(-7);           // Int64
  b.Fixed<uint8_t>(0).Str("FR");  // Nullable(String): 0 = not null, then the value
  b.Varint(2).Str("a").Str("b");  // Array(String): length, then the elements
  b.Str("FR").Str("Paris");       // Tuple(String, String): the elements
  b.Varint(1).Str("x");           // n.k: Array(String)
  b.Varint(1).Fixed<int64_t>(5);  // n.v: Array(Int64)
  b.Fixed<uint16_t>(20757).Fixed<uint32_t>(1793700001).Fixed<int64_t>(8);
  b.Fixed<uint8_t>(1);  // NULL: no value follows
  b.Varint(0).Str("").Str("").Varint(0).Varint(0);
  // The query goes in the URL here: the body is binary.
  Sql(ch(), 0, "", "query=INSERT%20INTO%20rowbinary_raw%20FORMAT%20RowBinary", b.bytes());
  EXPECT_EQ(Sql(ch(), 0, "SELECT * FROM rowbinary_raw ORDER BY event_time"),
            "2026-10-31\t2026-11-03 10:00:00\t-7\tFR\t['a','b']\t('FR','Paris')\t['x']\t[5]\n"
            "2026-10-31\t2026-11-03 10:00:01\t8\t\\N\t[]\t('','')\t[]\t[]");
}

TEST_F(SingleServer, ReplacePartitionFromStagingByValueOrId) {
  Sql(ch(), 0, "CREATE TABLE rp (event_date Date, id UInt64) ENGINE = MergeTree PARTITION BY event_date ORDER BY id");
  Sql(ch(), 0, "CREATE TABLE rp_staging AS rp");
  Sql(ch(), 0, "INSERT INTO rp VALUES ('2026-11-01', 1), ('2026-11-01', 2), ('2026-11-02', 3)");
  Sql(ch(), 0, "INSERT INTO rp_staging VALUES ('2026-11-01', 10), ('2026-11-01', 11)");
  // A Date partition by its value, as a string literal.
  Sql(ch(), 0, "ALTER TABLE rp REPLACE PARTITION '2026-11-01' FROM rp_staging");
  EXPECT_EQ(Sql(ch(), 0,
                "SELECT event_date, groupArray(id) FROM (SELECT * FROM rp ORDER BY id) GROUP BY event_date "
                "ORDER BY event_date"),
            "2026-11-01\t[10,11]\n2026-11-02\t[3]");
  EXPECT_EQ(Count(ch(), 0, "rp_staging"), 2);  // REPLACE copies (hard links) the parts; staging keeps them
  // By partition id (system.parts.partition_id) and by an expression, the same.
  Sql(ch(), 0, "TRUNCATE TABLE rp_staging");
  Sql(ch(), 0, "INSERT INTO rp_staging VALUES ('2026-11-01', 20)");
  Sql(ch(), 0, "ALTER TABLE rp REPLACE PARTITION ID '20261101' FROM rp_staging");
  EXPECT_EQ(Sql(ch(), 0, "SELECT groupArray(id) FROM rp WHERE event_date = '2026-11-01'"), "[20]");
  Sql(ch(), 0, "INSERT INTO rp_staging VALUES ('2026-11-01', 21)");
  Sql(ch(), 0, "ALTER TABLE rp REPLACE PARTITION toDate('2026-11-01') FROM rp_staging");
  EXPECT_EQ(Sql(ch(), 0, "SELECT arraySort(groupArray(id)) FROM rp WHERE event_date = '2026-11-01'"), "[20,21]");
  // An empty staging partition empties the target partition.
  Sql(ch(), 0, "TRUNCATE TABLE rp_staging");
  Sql(ch(), 0, "ALTER TABLE rp REPLACE PARTITION '2026-11-01' FROM rp_staging");
  EXPECT_EQ(Count(ch(), 0, "rp"), 1);
  // Staging must have the same structure.
  Sql(ch(), 0,
      "CREATE TABLE rp_other (event_date Date, id UInt32) ENGINE = MergeTree PARTITION BY event_date ORDER BY id");
  Refused(ch(), 0, "ALTER TABLE rp REPLACE PARTITION '2026-11-02' FROM rp_other");
}

TEST_F(SingleServer, AttachPartitionFromStagingAddsItsRows) {
  Sql(ch(), 0, "CREATE TABLE ap (event_date Date, id UInt64) ENGINE = MergeTree PARTITION BY event_date ORDER BY id");
  Sql(ch(), 0, "CREATE TABLE ap_staging AS ap");
  Sql(ch(), 0, "INSERT INTO ap VALUES ('2026-11-01', 1)");
  Sql(ch(), 0, "INSERT INTO ap_staging VALUES ('2026-11-01', 2), ('2026-11-02', 3)");
  Sql(ch(), 0, "ALTER TABLE ap ATTACH PARTITION '2026-11-01' FROM ap_staging");
  EXPECT_EQ(Sql(ch(), 0, "SELECT arraySort(groupArray(id)) FROM ap"), "[1,2]");
  EXPECT_EQ(Count(ch(), 0, "ap_staging"), 2);
  // Dropping a partition: by value or by id.
  Sql(ch(), 0, "ALTER TABLE ap DROP PARTITION '2026-11-01'");
  EXPECT_EQ(Count(ch(), 0, "ap"), 0);
  Sql(ch(), 0, "ALTER TABLE ap_staging DROP PARTITION ID '20261102'");
  EXPECT_EQ(Count(ch(), 0, "ap_staging"), 1);
}

TEST_F(SingleServer, ReplacingMergeTreeFinalKeepsHighestVersionPerKey) {
  Sql(ch(), 0,
      "CREATE TABLE ledger (batch_id String, version UInt64, rows UInt64) ENGINE = ReplacingMergeTree(version) "
      "ORDER BY batch_id");
  Sql(ch(), 0, "INSERT INTO ledger VALUES ('b1', 2, 11)");
  Sql(ch(), 0, "INSERT INTO ledger VALUES ('b1', 1, 10)");  // older version arriving later
  Sql(ch(), 0, "INSERT INTO ledger VALUES ('b2', 1, 5)");
  EXPECT_EQ(Count(ch(), 0, "ledger"), 3);  // unmerged parts: both versions of b1 are visible without FINAL
  EXPECT_EQ(Sql(ch(), 0, "SELECT batch_id, version, rows FROM ledger FINAL ORDER BY batch_id"), "b1\t2\t11\nb2\t1\t5");
  // argMax is the merge-free alternative to FINAL.
  EXPECT_EQ(Sql(ch(), 0, "SELECT batch_id, argMax(rows, version) FROM ledger GROUP BY batch_id ORDER BY batch_id"),
            "b1\t11\nb2\t5");
  Sql(ch(), 0, "OPTIMIZE TABLE ledger FINAL");
  EXPECT_EQ(Count(ch(), 0, "ledger"), 2);
}

TEST_F(SingleServer, PlainMergeTreeDoesNotDeduplicateInserts) {
  Sql(ch(), 0, "CREATE TABLE nodedup (id UInt64) ENGINE = MergeTree ORDER BY id");
  Sql(ch(), 0, "INSERT INTO nodedup VALUES (1), (2)");
  Sql(ch(), 0, "INSERT INTO nodedup VALUES (1), (2)");
  EXPECT_EQ(Count(ch(), 0, "nodedup"), 4);
  // No non-replicated deduplication in 18.16 (non_replicated_deduplication_window came in 20.x).
  EXPECT_THAT(Refused(ch(), 0,
                      "CREATE TABLE nodedup2 (id UInt64) ENGINE = MergeTree ORDER BY id "
                      "SETTINGS non_replicated_deduplication_window = 100"),
              HasSubstr("Unknown setting non_replicated_deduplication_window"));
  EXPECT_EQ(Sql(ch(), 0, "SELECT count() FROM system.merge_tree_settings WHERE name LIKE 'non_replicated%'"), "0");
}

TEST_F(SingleServer, SettingsThatExistIn18_16) {
  auto exists = [&](const std::string& name) {
    return Sql(ch(), 0, "SELECT count() FROM system.settings WHERE name = '" + name + "'") == "1";
  };
  EXPECT_TRUE(exists("insert_distributed_sync"));
  EXPECT_TRUE(exists("insert_deduplicate"));
  EXPECT_TRUE(exists("insert_quorum"));
  EXPECT_TRUE(exists("select_sequential_consistency"));
  EXPECT_TRUE(exists("input_format_skip_unknown_fields"));
  EXPECT_TRUE(exists("input_format_import_nested_json"));
  EXPECT_TRUE(exists("max_execution_time"));
  EXPECT_TRUE(exists("max_result_rows"));
  EXPECT_TRUE(exists("result_overflow_mode"));
  EXPECT_TRUE(exists("allow_ddl"));
  EXPECT_TRUE(exists("readonly"));
  EXPECT_TRUE(exists("distributed_ddl_task_timeout"));
  EXPECT_FALSE(exists("input_format_defaults_for_omitted_fields"));
  EXPECT_FALSE(exists("async_insert"));
  EXPECT_FALSE(exists("insert_deduplication_token"));
  EXPECT_FALSE(exists("allow_experimental_lightweight_delete"));
  EXPECT_EQ(
      Sql(ch(), 0, "SELECT count() FROM system.merge_tree_settings WHERE name = 'replicated_deduplication_window'"),
      "1");
  // Functions the backend might reach for.
  EXPECT_THAT(Refused(ch(), 0, "SELECT currentUser()"), HasSubstr("Unknown function"));
  EXPECT_THAT(Refused(ch(), 0, "SELECT getSetting('readonly')"), HasSubstr("Unknown function"));
}

// Readers. Table functions cannot be created by a reader, so long queries use system.numbers.

TEST_F(SingleServer, ReadonlyParamRefusesWritesDdlAndSet) {
  Sql(ch(), 0, "CREATE TABLE ro (id UInt64) ENGINE = MergeTree ORDER BY id");
  Sql(ch(), 0, "INSERT INTO ro VALUES (1)");
  const std::string ro = "readonly=1";
  EXPECT_THAT(Refused(ch(), 0, "INSERT INTO ro VALUES (2)", ro), HasSubstr("Code: 164"));  // READONLY
  EXPECT_THAT(Refused(ch(), 0, "CREATE TABLE ro2 (id UInt64) ENGINE = Memory", ro), HasSubstr("Code: 164"));
  EXPECT_THAT(Refused(ch(), 0, "ALTER TABLE ro DELETE WHERE id = 1", ro), HasSubstr("Code: 164"));
  EXPECT_THAT(Refused(ch(), 0, "DROP TABLE ro", ro), HasSubstr("Code: 164"));
  EXPECT_THAT(Refused(ch(), 0, "TRUNCATE TABLE ro", ro), HasSubstr("Code: 164"));
  EXPECT_THAT(Refused(ch(), 0, "SET max_result_rows = 5", ro), HasSubstr("Code: 164"));
  // A SETTINGS clause that changes a setting is a SET too.
  EXPECT_THAT(Refused(ch(), 0, "SELECT * FROM ro SETTINGS readonly = 0", ro), HasSubstr("Code: 164"));
  EXPECT_THAT(Refused(ch(), 0, "SELECT * FROM ro SETTINGS max_execution_time = 100", ro), HasSubstr("Code: 164"));
  EXPECT_EQ(Sql(ch(), 0, "SELECT count() FROM ro", ro), "1");
  // URL parameters after readonly=1 are still applied, a later readonly=0 included: only the profile of the
  // user fixes readonly (see ReaderUserProfileFixesItsSettings). The backend must own the URL.
  EXPECT_EQ(Sql(ch(), 0, "SELECT value FROM system.settings WHERE name = 'max_result_rows'", ro + "&max_result_rows=7"),
            "7");
  EXPECT_EQ(Sql(ch(), 0, "SELECT value FROM system.settings WHERE name = 'readonly'", ro + "&readonly=0"), "0");
  EXPECT_EQ(Count(ch(), 0, "ro"), 1);
}

TEST_F(SingleServer, HttpGetIsReadonly) {
  // GET runs with readonly = 2 (settings may change, no writes); readonly=1 cannot be asked for on a GET.
  httplib::Client client("127.0.0.1", ch().http_port(0));
  auto res =
      client.Get("/?query=" + httplib::detail::encode_query_param("CREATE TABLE get_t (id UInt8) ENGINE = Memory"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, HasSubstr("Code: 164"));
  res = client.Get("/?readonly=1&query=SELECT%201");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("cannot be overrided in readonly mode"));
}

TEST_F(SingleServer, MaxExecutionTimeInterruptsWithTimeoutExceeded) {
  auto started = std::chrono::steady_clock::now();
  std::string error = Refused(ch(), 0, "SELECT count() FROM system.numbers", "readonly=1&max_execution_time=1");
  EXPECT_THAT(error, HasSubstr("Code: 159"));  // TIMEOUT_EXCEEDED
  EXPECT_THAT(error, HasSubstr("Timeout exceeded"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // timeout_overflow_mode=break returns what was computed so far instead.
  EXPECT_EQ(Sql(ch(), 0, "SELECT 1 FROM (SELECT count() FROM system.numbers)",
                "readonly=1&max_execution_time=1&timeout_overflow_mode=break"),
            "1");
}

TEST_F(SingleServer, MaxResultRowsBreakCutsAtABlockBoundary) {
  const std::string sql = "SELECT number FROM system.numbers LIMIT 1000000";
  std::string out = Sql(ch(), 0, sql, "readonly=1&max_result_rows=10&result_overflow_mode=break");
  int64_t rows = std::count(out.begin(), out.end(), '\n') + 1;
  // The cut is made after the first block that takes the count past the limit: a whole block of 65536 rows.
  EXPECT_EQ(rows, 65536);
  // With 10-row blocks, a limit of 10 is reached, not passed, by the first block: the second one passes it.
  std::string small = Sql(ch(), 0, sql, "readonly=1&max_result_rows=10&result_overflow_mode=break&max_block_size=10");
  EXPECT_EQ(std::count(small.begin(), small.end(), '\n') + 1, 20);
  small = Sql(ch(), 0, sql, "readonly=1&max_result_rows=10&result_overflow_mode=break&max_block_size=4");
  EXPECT_EQ(std::count(small.begin(), small.end(), '\n') + 1, 12);
  // The default mode is an error.
  EXPECT_THAT(Refused(ch(), 0, sql, "readonly=1&max_result_rows=10"),
              HasSubstr("Code: 396"));  // TOO_MANY_ROWS_OR_BYTES
}

TEST_F(SingleServer, ReadonlyOneForbidsEveryTableFunctionReadonlyTwoDoesNot) {
  std::filesystem::path user_file = ch().dir() + "/clickhouse-1/user_files/secret.tsv";
  std::ofstream(user_file) << "secret\n";
  const std::string file = "SELECT * FROM file('secret.tsv', 'TSV', 's String')";
  const std::string url = "SELECT * FROM url('" + ch().http_url(0) + "/ping', 'TSV', 's String')";
  const std::string remote =
      "SELECT count() FROM remote('127.0.0.1:" + std::to_string(ch().tcp_port(0)) + "', system.one)";
  const std::string numbers = "SELECT count() FROM numbers(3)";
  for (const std::string& sql : {file, url, remote, numbers}) {
    EXPECT_THAT(Refused(ch(), 0, sql, "readonly=1"), HasSubstr("Table functions are forbidden in readonly mode"))
        << sql;
  }
  // readonly=2 (no writes, settings allowed) lets every table function through: it is no reader setting.
  EXPECT_EQ(Sql(ch(), 0, file, "readonly=2"), "secret");
  EXPECT_EQ(Sql(ch(), 0, url, "readonly=2"), "Ok.");
  EXPECT_EQ(Sql(ch(), 0, remote, "readonly=2"), "1");
  // allow_ddl=0 only refuses DDL: table functions and inserts pass.
  EXPECT_EQ(Sql(ch(), 0, file, "allow_ddl=0"), "secret");
  EXPECT_THAT(Refused(ch(), 0, "CREATE TABLE ddl_t (id UInt8) ENGINE = Memory", "allow_ddl=0"),
              HasSubstr("Code: 392"));  // QUERY_IS_PROHIBITED
  // file() is confined to user_files_path.
  EXPECT_THAT(Refused(ch(), 0, "SELECT * FROM file('/etc/passwd', 'TSV', 's String')"), HasSubstr("user_files"));
}

TEST_F(SingleServer, ReaderUserProfileFixesItsSettings) {
  const std::string reader = "user=reader";
  EXPECT_EQ(Sql(ch(), 0, "SELECT value FROM system.settings WHERE name = 'readonly'", reader), "1");
  EXPECT_THAT(Refused(ch(), 0, "SELECT 1", reader + "&readonly=0"), HasSubstr("Cannot override setting (readonly)"));
  EXPECT_THAT(Refused(ch(), 0, "SELECT 1", reader + "&max_execution_time=100"),
              HasSubstr("Cannot override setting (max_execution_time)"));
  EXPECT_EQ(Sql(ch(), 0, "SELECT 1", reader + "&max_execution_time=2"), "1");  // the same value passes
  EXPECT_THAT(Refused(ch(), 0, "CREATE TABLE reader_t (id UInt8) ENGINE = Memory", reader), HasSubstr("Code: 164"));
  // The profile's limits apply: max_execution_time = 2, max_result_rows = 1000 with break.
  EXPECT_THAT(Refused(ch(), 0, "SELECT count() FROM system.numbers", reader), HasSubstr("Code: 159"));
  // A reader cannot set max_block_size either, so its result is cut at the default block size: the backend
  // trims to its row cap itself.
  EXPECT_THAT(Refused(ch(), 0, "SELECT 1", reader + "&max_block_size=1000"), HasSubstr("Cannot override setting"));
  std::string out = Sql(ch(), 0, "SELECT number FROM system.numbers LIMIT 100000", reader);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n') + 1, 65536);
  // Basic auth names the user too.
  httplib::Client client("127.0.0.1", ch().http_port(0));
  client.set_basic_auth("reader", "");
  auto res = client.Post("/", "SELECT value FROM system.settings WHERE name = 'readonly'", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(Trim(res->body), "1");
}

// ---------------------------------------------------------------------------------------------------------
// Two servers, one shard, two replicas, one ZooKeeper: replicated insert deduplication.

class TwoReplicas : public LayoutSuite<Layout::kTwoReplicas> {
 protected:
  // Creates a ReplicatedMergeTree table on both replicas with ON CLUSTER.
  void CreateReplicated(const std::string& table, const std::string& extra_settings = "") {
    Sql(*ch_, 0,
        "CREATE TABLE " + table +
            " ON CLUSTER sluice_cluster (event_date Date, id UInt64, s String) "
            "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/" +
            table +
            "', '{replica}') "
            "PARTITION BY event_date ORDER BY id" +
            extra_settings);
  }
  void Sync(const std::string& table) {
    for (int i = 0; i < 2; ++i) Sql(*ch_, i, "SYSTEM SYNC REPLICA " + table);
  }
};

TEST_F(TwoReplicas, StartsQuicklyWithMacrosAndCluster) {
  EXPECT_LT(start_seconds_, 15);
  EXPECT_EQ(ch().cluster_name(), "sluice_cluster");
  EXPECT_THAT(ch().zookeeper_address(), StartsWith("127.0.0.1:"));
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Sql(ch(), i, "SELECT substitution FROM system.macros ORDER BY macro"),
              "sluice_cluster\n" + ch().replica_macro(i) + "\n1");  // cluster, replica, shard
    EXPECT_EQ(Sql(ch(), i,
                  "SELECT shard_num, replica_num, port FROM system.clusters WHERE cluster = 'sluice_cluster' "
                  "ORDER BY replica_num"),
              "1\t1\t" + std::to_string(ch().tcp_port(0)) + "\n1\t2\t" + std::to_string(ch().tcp_port(1)));
  }
}

TEST_F(TwoReplicas, OnClusterCreatesReplicatedTableWithDedupWindowOnBoth) {
  CreateReplicated("dd_window", " SETTINGS replicated_deduplication_window = 1000");
  for (int i = 0; i < 2; ++i) {
    EXPECT_THAT(Sql(ch(), i, "SHOW CREATE TABLE dd_window"), HasSubstr("replicated_deduplication_window = 1000"));
    EXPECT_EQ(Sql(ch(), i, "SELECT replica_name, total_replicas FROM system.replicas WHERE table = 'dd_window'"),
              ch().replica_macro(i) + "\t2");
  }
}

TEST_F(TwoReplicas, SameBlockIsKeptOnceAcrossRetriesAndReplicas) {
  CreateReplicated("dd");
  const std::string block =
      "{\"event_date\":\"2026-11-01\",\"id\":1,\"s\":\"a\"}\n"
      "{\"event_date\":\"2026-11-01\",\"id\":2,\"s\":\"b\"}";
  // The first insert and its retry on the same replica: the retry answers 200, with nothing said.
  EXPECT_EQ(Sql(ch(), 0, "INSERT INTO dd FORMAT JSONEachRow", "", block), "");
  EXPECT_EQ(Sql(ch(), 0, "INSERT INTO dd FORMAT JSONEachRow", "", block), "");
  // The same block sent to the other replica: its hash is in ZooKeeper already.
  EXPECT_EQ(Sql(ch(), 1, "INSERT INTO dd FORMAT JSONEachRow", "", block), "");
  // The same rows in another format make the same part, so the same hash.
  Sql(ch(), 1, "INSERT INTO dd FORMAT TSV", "", "2026-11-01\t1\ta\n2026-11-01\t2\tb\n");
  Sync("dd");
  EXPECT_EQ(Count(ch(), 0, "dd"), 2);
  EXPECT_EQ(Count(ch(), 1, "dd"), 2);
  // The hash is of the part, whose rows are sorted by the ORDER BY key: the same rows in another order are
  // the same block.
  Sql(ch(), 0, "INSERT INTO dd FORMAT JSONEachRow", "",
      "{\"event_date\":\"2026-11-01\",\"id\":2,\"s\":\"b\"}\n{\"event_date\":\"2026-11-01\",\"id\":1,\"s\":\"a\"}");
  EXPECT_EQ(Count(ch(), 0, "dd"), 2);
  // Other block boundaries are other blocks: not deduplicated.
  Sql(ch(), 0, "INSERT INTO dd FORMAT JSONEachRow", "", "{\"event_date\":\"2026-11-01\",\"id\":1,\"s\":\"a\"}");
  Sql(ch(), 0, "INSERT INTO dd FORMAT JSONEachRow", "", "{\"event_date\":\"2026-11-01\",\"id\":2,\"s\":\"b\"}");
  Sync("dd");
  EXPECT_EQ(Count(ch(), 0, "dd"), 4);
  EXPECT_EQ(Count(ch(), 1, "dd"), 4);
  // insert_deduplicate=0 turns it off.
  Sql(ch(), 0, "INSERT INTO dd FORMAT JSONEachRow", "insert_deduplicate=0", block);
  EXPECT_EQ(Count(ch(), 0, "dd"), 6);
}

TEST_F(TwoReplicas, DedupIsPerPartitionPartOfAnInsert) {
  CreateReplicated("dd_parts");
  // One insert spanning two days makes two parts, each with its own hash.
  Sql(ch(), 0, "INSERT INTO dd_parts VALUES ('2026-11-01', 1, 'a'), ('2026-11-02', 2, 'b')");
  // A later insert whose part for one day equals an earlier part: that part is dropped, the other kept.
  Sql(ch(), 1, "INSERT INTO dd_parts VALUES ('2026-11-01', 1, 'a'), ('2026-11-03', 3, 'c')");
  Sync("dd_parts");
  EXPECT_EQ(Sql(ch(), 1, "SELECT groupArray(id) FROM (SELECT id FROM dd_parts ORDER BY id)"), "[1,2,3]");
}

TEST_F(TwoReplicas, ReplicatedReplacingMergeTreeFinalOnEitherReplica) {
  Sql(ch(), 0,
      "CREATE TABLE ledger ON CLUSTER sluice_cluster (batch_id String, version UInt64, rows UInt64) "
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/ledger', '{replica}', version) "
      "ORDER BY batch_id");
  Sql(ch(), 0, "INSERT INTO ledger VALUES ('b1', 1, 10)");
  Sql(ch(), 1, "INSERT INTO ledger VALUES ('b1', 2, 11)");
  Sync("ledger");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Sql(ch(), i, "SELECT batch_id, version, rows FROM ledger FINAL"), "b1\t2\t11");
}

TEST_F(TwoReplicas, ReplacePartitionIsReplicated) {
  CreateReplicated("rrp");
  Sql(ch(), 0,
      "CREATE TABLE rrp_staging ON CLUSTER sluice_cluster AS rrp "
      "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/rrp_staging', '{replica}') "
      "PARTITION BY event_date ORDER BY id");
  Sql(ch(), 0, "INSERT INTO rrp VALUES ('2026-11-01', 1, 'old')");
  Sql(ch(), 0, "INSERT INTO rrp_staging VALUES ('2026-11-01', 2, 'new')");
  Sql(ch(), 0, "ALTER TABLE rrp REPLACE PARTITION '2026-11-01' FROM rrp_staging");
  Sync("rrp");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Sql(ch(), i, "SELECT id, s FROM rrp"), "2\tnew");
}

TEST_F(TwoReplicas, AddColumnIsReplicatedWithoutOnCluster) {
  CreateReplicated("evolve");
  Sql(ch(), 0, "INSERT INTO evolve VALUES ('2026-11-01', 1, 'a')");
  // ALTER of a Replicated table goes through ZooKeeper to every replica by itself.
  Sql(ch(), 0, "ALTER TABLE evolve ADD COLUMN country Nullable(String) AFTER s");
  // No IF NOT EXISTS for columns in 18.16 (came in 19.x): adding twice is an error, so check system.columns.
  EXPECT_THAT(Refused(ch(), 0, "ALTER TABLE evolve ADD COLUMN IF NOT EXISTS country Nullable(String)"),
              HasSubstr("Syntax error"));
  EXPECT_THAT(Refused(ch(), 0, "ALTER TABLE evolve ADD COLUMN country Nullable(String)"), HasSubstr("already exists"));
  Sync("evolve");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Sql(ch(), i, "SELECT name FROM system.columns WHERE table = 'evolve' AND name = 'country'"), "country");
  }
  Sql(ch(), 1, "INSERT INTO evolve FORMAT JSONEachRow", "",
      R"({"event_date":"2026-11-01","id":2,"s":"b","country":"FR"})");
  Sync("evolve");
  EXPECT_EQ(Sql(ch(), 0, "SELECT id, country FROM evolve ORDER BY id"), "1\t\\N\n2\tFR");
}

TEST_F(TwoReplicas, QuorumInsertWithAReplicaKilledTimesOutButIsNotRolledBack) {
  CreateReplicated("quorum");
  Sql(ch(), 0, "INSERT INTO quorum VALUES ('2026-11-01', 1, 'a')", "insert_quorum=2");
  ASSERT_TRUE(ch_->Kill(1).ok());
  EXPECT_FALSE(ch_->Running(1));
  EXPECT_TRUE(ch().Query(1, "SELECT 1").status().IsRetry());
  // The killed replica's ZooKeeper session lives on until its timeout, so it still counts as live: the
  // quorum insert is written on replica 1 and then waits for a quorum that cannot come, until
  // insert_quorum_timeout (default 600 s).
  auto started = std::chrono::steady_clock::now();
  std::string error = Refused(ch(), 0, "INSERT INTO quorum VALUES ('2026-11-01', 2, 'b')",
                              "insert_quorum=2&insert_quorum_timeout=2000");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_THAT(error, HasSubstr("Code: 319"));  // UNKNOWN_STATUS_OF_INSERT
  EXPECT_THAT(error, HasSubstr("Unknown status, client must retry"));
  EXPECT_THAT(error, HasSubstr("Timeout while waiting for quorum"));
  Sql(ch(), 0, "INSERT INTO quorum VALUES ('2026-11-01', 3, 'c')");  // no quorum asked: taken at once
  ASSERT_TRUE(ch_->Restart(1).ok()) << ch().LogTail(1);
  EXPECT_TRUE(ch_->Running(1));
  Sync("quorum");
  // The failed insert was not rolled back: its row is on both replicas now.
  EXPECT_EQ(Sql(ch(), 1, "SELECT groupArray(id) FROM (SELECT id FROM quorum ORDER BY id)"), "[1,2,3]");
  // Retrying a failed insert with the same block is what makes it exactly once: deduplicated, also after a
  // restart (the hashes live in ZooKeeper).
  Sql(ch(), 1, "INSERT INTO quorum VALUES ('2026-11-01', 2, 'b')");
  Sql(ch(), 0, "INSERT INTO quorum VALUES ('2026-11-01', 3, 'c')");
  EXPECT_EQ(Count(ch(), 1, "quorum"), 3);
}

// ---------------------------------------------------------------------------------------------------------
// Two servers, two shards: Distributed over replicated local tables.

class TwoShards : public LayoutSuite<Layout::kTwoShards> {};

TEST_F(TwoShards, DistributedTableCountsBothShards) {
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Sql(ch(), i, "SELECT substitution FROM system.macros WHERE macro = 'shard'"), ch().shard_macro(i));
  }
  EXPECT_THAT(Refused(ch(), 0, "SELECT getMacro('shard')"), HasSubstr("Unknown function"));  // came in 19.x
  Sql(ch(), 0,
      "CREATE TABLE events_local ON CLUSTER sluice_cluster (event_date Date, ad_id Int64) "
      "ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/events_local', '{replica}') "
      "PARTITION BY event_date ORDER BY ad_id");
  Sql(ch(), 0,
      "CREATE TABLE events ON CLUSTER sluice_cluster AS events_local "
      "ENGINE = Distributed(sluice_cluster, default, events_local, cityHash64(ad_id))");
  std::string rows;
  for (int id = 0; id < 100; ++id) rows += "2026-11-01\t" + std::to_string(id) + "\n";
  // insert_distributed_sync=1: the insert returns once every shard has its rows.
  Sql(ch(), 0, "INSERT INTO events FORMAT TSV", "insert_distributed_sync=1", rows);
  int64_t a = Count(ch(), 0, "events_local"), b = Count(ch(), 1, "events_local");
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_EQ(a + b, 100);
  EXPECT_EQ(Count(ch(), 0, "events"), 100);
  EXPECT_EQ(Count(ch(), 1, "events"), 100);
  // The same block again through Distributed: each shard's piece is the same block, deduplicated.
  Sql(ch(), 1, "INSERT INTO events FORMAT TSV", "insert_distributed_sync=1", rows);
  EXPECT_EQ(Count(ch(), 0, "events"), 100);
}

TEST_F(TwoShards, OnClusterDdlAnswersOneRowPerHost) {
  std::string out = Sql(ch(), 0, "CREATE TABLE ddl_t ON CLUSTER sluice_cluster (id UInt8) ENGINE = Memory");
  // host, port, status, error, hosts remaining, hosts active
  EXPECT_THAT(out, HasSubstr("127.0.0.1\t" + std::to_string(ch().tcp_port(0)) + "\t0\t"));
  EXPECT_THAT(out, HasSubstr("127.0.0.1\t" + std::to_string(ch().tcp_port(1)) + "\t0\t"));
  EXPECT_THAT(Refused(ch(), 0, "CREATE TABLE ddl_t ON CLUSTER sluice_cluster (id UInt8) ENGINE = Memory"),
              HasSubstr("already exists"));
  Sql(ch(), 0, "CREATE TABLE IF NOT EXISTS ddl_t ON CLUSTER sluice_cluster (id UInt8) ENGINE = Memory");
  Sql(ch(), 0, "DROP TABLE ddl_t ON CLUSTER sluice_cluster");
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Sql(ch(), i, "EXISTS TABLE ddl_t"), "0");
}

}  // namespace
}  // namespace sluice
