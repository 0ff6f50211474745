// Shared by the transform tests: a config with one tracking stream, a real DuckDB warehouse in a temp
// folder, and batches loaded the way the pipeline loads them (RecordParser + LoadBatch).
// Not thread-safe; one per test.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/record_parser.h"
#include "core/time.h"
#include "transform/transformer.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice::testing {

constexpr const char* kStreamYaml = R"(
streams:
  tracking:
    event_time: ts
    allowed_lateness: 2h
    schema: { ts: timestamp, ad_id: int64, website_id: int64, event: string, ua: string, dur: int64 }
    sources: [ { kind: http } ]
)";

constexpr const char* kRollupsYaml = R"(
rollups:
  tracking_hourly:
    stream: tracking
    grain: hour
    dimensions: [ad_id, website_id]
    pivot: { column: event, values: [start, complete, click] }
    measures: { events: count, total_dur: sum(dur), max_dur: max(dur), min_dur: min(dur), uas: approx_distinct(ua) }
  tracking_daily:
    stream: tracking
    grain: day
    dimensions: [ad_id]
    measures: { events: count, avg_dur: avg(dur) }
)";

class TransformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice_tr_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "models");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteModel(const std::string& name, const std::string& sql) {
    std::ofstream(dir_ / "models" / (name + ".sql")) << sql;
  }
  // Parses `yaml` (models: resolves against the temp folder) into config_.
  void UseConfig(const std::string& yaml) {
    auto c = ParseConfig(yaml, "t.yaml", dir_.string());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = std::make_unique<Config>(std::move(*c));
  }
  void OpenWarehouse() {
    warehouse_.reset();
    auto w = DuckDbWarehouse::Open((dir_ / "w.duckdb").string());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    warehouse_ = std::move(*w);
    ASSERT_TRUE(warehouse_->Prepare(*config_).ok());
  }
  std::unique_ptr<Transformer> MakeTransformer() {
    auto t = Transformer::Create(*config_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(*t) : nullptr;
  }
  // Loads `records` (JSON lines) as one batch of partition p0 starting at `first_offset`.
  void Load(const std::vector<std::string>& records, int64_t first_offset) {
    const StreamConfig& s = config_->streams[0];
    Batch b(&s);
    b.source = "src";
    RecordParser p(&s);
    uint32_t part = b.PartitionIndex("p0");
    int64_t off = first_offset;
    for (const auto& r : records) {
      p.Parse(r, part, off, off + 1, b);
      ++off;
    }
    if (b.id.empty()) b.AssignId("p0", first_offset);
    auto loaded = warehouse_->LoadBatch(b, "f");
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(*loaded, LoadOutcome::kLoaded);
  }
  TransformReport Transform(Transformer& t, const TransformOptions& o = {}) {
    auto r = t.Run(*warehouse_, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : TransformReport{};
  }
  std::string Q(const std::string& sql) {
    auto r = warehouse_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? r->Scalar() : "<error>";
  }
  // Rows of `sql` as "a|b|c" lines, sorted, for comparing tables.
  std::vector<std::string> Rows(const std::string& sql) {
    auto r = warehouse_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::string line;
      for (const auto& cell : row) line += (line.empty() ? "" : "|") + cell.value_or("NULL");
      out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string Event(const std::string& ts, int ad, int site, const std::string& event, const std::string& ua,
                           int dur) {
    return "{\"ts\":\"" + ts + "\",\"ad_id\":" + std::to_string(ad) + ",\"website_id\":" + std::to_string(site) +
           ",\"event\":\"" + event + "\",\"ua\":\"" + ua + "\",\"dur\":" + std::to_string(dur) + "}";
  }

  std::filesystem::path dir_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<DuckDbWarehouse> warehouse_;
};

}  // namespace sluice::testing
