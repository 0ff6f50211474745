#include "batching/pipeline.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <thread>

#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

// A real DuckDB warehouse whose loads wait until released: stands in for a warehouse that fell behind.
class SlowWarehouse : public Warehouse {
 public:
  explicit SlowWarehouse(std::unique_ptr<Warehouse> inner) : inner_(std::move(inner)) {}
  Status Execute(const std::string& sql) override { return inner_->Execute(sql); }
  Result<QueryResult> Query(const std::string& sql) override { return inner_->Query(sql); }
  Result<std::shared_ptr<Readers>> OpenReaders(size_t n) override { return inner_->OpenReaders(n); }
  Status Prepare(const Config& c) override { return inner_->Prepare(c); }
  Result<std::optional<int64_t>> NewestEventTime(const std::string& s) override { return inner_->NewestEventTime(s); }
  Result<std::map<std::string, int64_t>> Checkpoints(const std::string& s) override { return inner_->Checkpoints(s); }
  const SqlDialect& dialect() const override { return inner_->dialect(); }
  Status PrepareTransforms(const Config& c) override { return inner_->PrepareTransforms(c); }
  Result<int64_t> LedgerHead() override { return inner_->LedgerHead(); }
  Result<std::set<int64_t>> TouchedHours(const std::set<std::string>& s, int64_t a, int64_t t) override {
    return inner_->TouchedHours(s, a, t);
  }
  Result<std::map<std::string, TransformCursor>> TransformCursors() override { return inner_->TransformCursors(); }
  Result<bool> HasTable(const std::string& n) override { return inner_->HasTable(n); }
  Status WriteTarget(const TargetWrite& w) override { return inner_->WriteTarget(w); }
  Status DropRawBefore(const StreamConfig& s, int32_t day) override { return inner_->DropRawBefore(s, day); }
  Status PrepareKeyedTables(const std::vector<KeyedTable>& t, const std::vector<DeltaView>& v) override {
    return inner_->PrepareKeyedTables(t, v);
  }
  Result<int64_t> UpsertRows(const std::vector<KeyedRows>& b) override { return inner_->UpsertRows(b); }
  Status PutRun(const RunRecord& r) override { return inner_->PutRun(r); }
  Result<std::vector<RunRecord>> Runs(const std::string& c) override { return inner_->Runs(c); }
  Result<std::optional<HttpCacheEntry>> GetHttpCache(const std::string& u) override { return inner_->GetHttpCache(u); }
  Status PutHttpCache(const HttpCacheEntry& e) override { return inner_->PutHttpCache(e); }
  Status DropHttpCache(const std::string& u) override { return inner_->DropHttpCache(u); }
  Status ExpireHttpCache(int64_t before_us) override { return inner_->ExpireHttpCache(before_us); }
  Result<LoadOutcome> LoadBatch(const Batch& b, const std::string& f) override {
    release_.wait();
    return inner_->LoadBatch(b, f);
  }
  void Release() { gate_.set_value(); }

 private:
  std::unique_ptr<Warehouse> inner_;
  std::promise<void> gate_;
  std::shared_future<void> release_ = gate_.get_future().share();
};

TEST(PipelineTest, HttpIngestAnswers503WhenBehindAndLosesNothingItAccepted) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice_pipeline_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto config = ParseConfig(R"(
warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  t:
    event_time: ts
    schema: { ts: timestamp, n: int64 }
    sources: [ { kind: http } ]
    batch: { max_records: 1 }
)",
                            "t.yaml", dir.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto inner = OpenWarehouse(*config);
  ASSERT_TRUE(inner.ok());
  SlowWarehouse warehouse(std::move(*inner));
  ASSERT_TRUE(warehouse.Prepare(*config).ok());
  Metrics metrics;
  Pipeline pipeline(*config, warehouse, metrics);
  ASSERT_TRUE(pipeline.Start(false).ok());

  // Fill the queue: these bodies are accepted and wait for their commit. Each is a whole batch (max_records: 1);
  // smaller ones would wait in the open HTTP group instead (http_group_commit.h).
  std::vector<std::future<Result<IngestReport>>> accepted;
  for (size_t i = 0; i < Pipeline::kMaxQueued; ++i) {
    accepted.push_back(std::async(std::launch::async, [&pipeline, i] {
      return pipeline.Ingest("t", "{\"ts\":\"2026-11-01T00:00:00Z\",\"n\":" + std::to_string(i) + "}\n");
    }));
    while (pipeline.queue_depth() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // The pipeline is behind: the next body is refused with Retry (HTTP 503), not queued without bound.
  auto refused = pipeline.Ingest("t", "{\"ts\":\"2026-11-01T00:00:00Z\",\"n\":99}\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsRetry()) << refused.status().ToString();
  EXPECT_EQ(pipeline.Ingest("nope", "{}").status().code(), StatusCode::kNotFound);

  warehouse.Release();
  for (auto& f : accepted) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->loaded, 1);
  }
  pipeline.Stop();
  ASSERT_TRUE(pipeline.Wait().ok());
  auto count = warehouse.Query("SELECT count(*), count(DISTINCT _offset), max(_offset) FROM raw_t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count->rows[0][0], std::to_string(Pipeline::kMaxQueued));
  EXPECT_EQ(*count->rows[0][1], std::to_string(Pipeline::kMaxQueued));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice
