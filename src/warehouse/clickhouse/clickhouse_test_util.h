// Helpers shared by the ClickHouse backend's tests: configs, batches built the way sources build them
// (parsed and landed), and a warehouse opened on a test server. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/record_parser.h"
#include "landing/landing_store.h"
#include "warehouse/clickhouse/clickhouse_test_cluster.h"
#include "warehouse/clickhouse/clickhouse_warehouse.h"

namespace sluice::testing {

// A temp folder removed at destruction.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/sluice-chtest-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

inline Config MakeConfig(const std::string& landing, const std::string& schema_extra = "") {
  auto c = ParseConfig("landing: { path: " + landing + R"( }
streams:
  ev:
    event_time: ts
    schema:
      ts: timestamp
      kind: string
      n: int64
      actor: { id: int64, login: string }
      tags: [string]
)" + schema_extra + R"(
    sources: [ { kind: http } ]
)",
                       "t.yaml");
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return std::move(*c);
}

// Records read from `partition` starting at `first_offset`, one offset each, as the HTTP source cuts them.
inline std::unique_ptr<Batch> MakeBatch(const StreamConfig& s, int64_t first_offset,
                                        const std::vector<std::string>& records, const std::string& partition = "p0",
                                        const std::string& source = "ev.http") {
  auto b = std::make_unique<Batch>(&s);
  b->source = source;
  RecordParser p(&s);
  uint32_t part = b->PartitionIndex(partition);
  int64_t off = first_offset;
  for (const auto& r : records) {
    b->landing_data += r + "\n";
    p.Parse(r, part, off, off + 1, *b);
    ++off;
  }
  return b;
}

// `count` events from `first` on, `per_day` per event day starting 2026-11-01 (so blocks split by day).
inline std::vector<std::string> Events(int first, int count, int per_day = 1'000'000) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) {
    int day = 1 + i / per_day;
    char ts[64];
    std::snprintf(ts, sizeof ts, "2026-11-%02dT%02d:%02d:%02dZ", day, (i / 3600) % 24, (i / 60) % 60, i % 60);
    out.push_back(std::string(R"({"ts":")") + ts + R"(","kind":"k)" + std::to_string(i % 3) + R"(","n":)" +
                  std::to_string(i) + R"(,"actor":{"id":)" + std::to_string(i % 7) + R"(,"login":"u)" +
                  std::to_string(i % 7) + R"("},"tags":["a","b"]})");
  }
  return out;
}

inline Result<std::unique_ptr<ClickHouseWarehouse>> OpenOn(const ClickHouseTestCluster& c, int server,
                                                           const std::string& database) {
  ClickHouseWarehouse::Options o;
  o.server.url = c.http_url(server);
  o.target.database = database;
  o.target.cluster = c.cluster_name();
  o.reader_user = "reader";
  return ClickHouseWarehouse::Open(std::move(o));
}

// The single value of `sql` on `w` ("<error>" on failure).
inline std::string Scalar(ClickHouseWarehouse& w, const std::string& sql) {
  auto r = w.Query(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  return r.ok() ? r->Scalar() : "<error>";
}

// A per-test database name: tests share a server.
inline std::string TestDatabase() {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::string out = "t_";
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

// Rows of `sql` as "a|b|c" lines (NULL for nulls), in the order the query returns them.
inline std::vector<std::string> Rows(Warehouse& w, const std::string& sql) {
  auto r = w.Query(sql);
  EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const auto& row : r->rows) {
    std::string line;
    for (const auto& cell : row) line += (line.empty() ? "" : "|") + cell.value_or("NULL");
    out.push_back(line);
  }
  return out;
}

// A test suite whose tests share one clickhouse-server, started once for the suite (about a second).
class SingleServerSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto c = ClickHouseTestCluster::Start(ClickHouseTestCluster::Layout::kSingle);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c).release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static inline ClickHouseTestCluster* cluster_ = nullptr;
};

}  // namespace sluice::testing
