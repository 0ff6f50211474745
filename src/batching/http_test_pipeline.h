// For tests of the HTTP ingest path (batching and serve): HttpTestPipeline runs a real Pipeline over a real
// DuckDB warehouse for one stream `t` (ts timestamp, n int64) with an http source and the batch settings a
// test gives, in a fresh folder; WarehouseHold keeps that warehouse busy, as a long query would, so the
// loader cannot commit until the test releases it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <memory>
#include <string>

#include "batching/pipeline.h"
#include "core/config.h"

namespace sluice::testing {

class HttpTestPipeline {
 protected:
  // Starts the pipeline in <tmp>/sluice_<name>_<pid> with `batch` as the stream's batch settings.
  void StartPipeline(const std::string& name, const std::string& batch) {
    dir_ = std::filesystem::temp_directory_path() / ("sluice_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    auto config = ParseConfig(R"(warehouse: { path: wh.duckdb }
landing: { path: landing }
streams:
  t:
    event_time: ts
    schema: { ts: timestamp, n: int64 }
    sources: [ { kind: http } ]
    batch: )" + batch + "\n",
                              "sluice.yaml", dir_.string());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = std::make_unique<Config>(std::move(*config));
    auto warehouse = OpenWarehouse(*config_);
    ASSERT_TRUE(warehouse.ok()) << warehouse.status().ToString();
    warehouse_ = std::move(*warehouse);
    ASSERT_TRUE(warehouse_->Prepare(*config_).ok());
    pipeline_ = std::make_unique<Pipeline>(*config_, *warehouse_, metrics_);
    ASSERT_TRUE(pipeline_->Start(false).ok());
  }

  // Stops the pipeline (its queued batches are loaded first) and removes the folder.
  void StopPipeline() {
    if (pipeline_) {
      pipeline_->Stop();
      EXPECT_TRUE(pipeline_->Wait().ok());
    }
    pipeline_.reset();
    warehouse_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // One NDJSON record of stream t.
  static std::string Record(int n) { return "{\"ts\":\"2026-11-01T00:00:00Z\",\"n\":" + std::to_string(n) + "}\n"; }

  // The first cell of `sql`, read through the pipeline's warehouse.
  std::string Scalar(const std::string& sql) {
    std::string out;
    Status st = pipeline_->WithWarehouse([&](Warehouse& w) -> Status {
      ASSIGN_OR_RETURN(auto r, w.Query(sql));
      out = r.Scalar();
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Config> config_;
  std::unique_ptr<Warehouse> warehouse_;
  Metrics metrics_;
  std::unique_ptr<Pipeline> pipeline_;
};

// Holds `pipeline`'s warehouse from construction until Release (or destruction).
class WarehouseHold {
 public:
  explicit WarehouseHold(Pipeline& pipeline) {
    holder_ = std::async(std::launch::async, [this, &pipeline] {
      return pipeline.WithWarehouse([this](Warehouse&) {
        holding_.set_value();
        released_.wait();
        return Status::Ok();
      });
    });
    holding_.get_future().wait();
  }
  ~WarehouseHold() {
    if (holder_.valid()) (void)Release();
  }
  // Lets the warehouse go; what holding it returned.
  Status Release() {
    release_.set_value();
    return holder_.get();
  }

 private:
  std::promise<void> holding_;
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::future<Status> holder_;
};

}  // namespace sluice::testing
