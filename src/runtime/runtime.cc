#include "runtime/runtime.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "batching/pipeline.h"
#include "core/time.h"
#include "marts/mart_refresher.h"
#include "runtime/collector_service.h"
#include "runtime/progress.h"
#include "runtime/stop_signals.h"
#include "runtime/workers.h"
#include "serve/exposure.h"
#include "serve/server.h"
#include "transform/transformer.h"

namespace sluice {
namespace {

// Reader connections for the query API and dashboards: queries beyond these wait for a free one.
constexpr size_t kReaderConnections = 4;

// Transforms follow loads, debounced: at most one run a second, only when batches were loaded since. With
// several workers every second: a group whose lease just passed to this worker may be behind even when
// nothing new was loaded (its previous owner died mid-way).
void RunTransformLoop(Pipeline& pipeline, Transformer& transformer, MartRefresher& marts,
                      const TransformOptions& options, const std::atomic<bool>& finished) {
  while (!finished) {
    for (int i = 0; i < 10 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Status st = pipeline.WithWarehouse([&](Warehouse& w) -> Status {
      ASSIGN_OR_RETURN(bool fresh, transformer.HasNewBatches(w));
      TransformReport report;
      if (fresh || options.leases) {
        ASSIGN_OR_RETURN(report, transformer.Run(w, options));
      }
      // PostgreSQL marts follow their sources, under the same leases (cheap when none changed).
      return marts.AfterTransform(w, report, options.leases);
    });
    if (!st.ok()) spdlog::warn("transform: {}", st.message());
  }
}

// What `sluice status` shows of this worker (published to ZooKeeper).
std::string DescribeWorker(Pipeline& pipeline, const RuntimeOptions& options, int64_t started_us) {
  nlohmann::json partitions = nlohmann::json::object();
  for (const auto& [source, held] : pipeline.HeldPartitions()) partitions[source] = held;
  return nlohmann::json{{"pid", ::getpid()},
                        {"listen", options.listen},
                        {"started", FormatIsoMicros(started_us)},
                        {"partitions", partitions},
                        {"queue", pipeline.queue_depth()}}
      .dump();
}

}  // namespace

Result<RunSummary> RunPipeline(const Config& config, const RuntimeOptions& options) {
  // Who may reach the server is settled before anything is read: a refused exposure must not ingest first.
  if (!options.once) RETURN_IF_ERROR(ResolveServerToken(config, options.listen).status());
  Metrics metrics;
  // Several workers: join them first, so a second worker of the same name is refused before anything runs.
  ASSIGN_OR_RETURN(WorkerSeat seat, TakeSeat(config, options.worker, metrics));
  ASSIGN_OR_RETURN(std::unique_ptr<Warehouse> warehouse, OpenWarehouse(config));
  RETURN_IF_ERROR(warehouse->Prepare(config));
  // Rollups and models are checked before anything is read: a bad one is an error at start.
  ASSIGN_OR_RETURN(std::unique_ptr<Transformer> transformer, Transformer::Create(config));
  ASSIGN_OR_RETURN(std::unique_ptr<MartRefresher> marts, MartRefresher::Create(config, *transformer));
  Pipeline pipeline(config, *warehouse, metrics, PipelineOptions{seat.name, seat.leases.get()});
  TransformOptions transform_options;
  transform_options.leases = seat.leases.get();
  InstallStopSignals();
  const int64_t t0 = NowMicros();
  RETURN_IF_ERROR(pipeline.Start(options.once));
  // From here on, a failure to start stops the pipeline before returning.
  auto abort = [&](const Status& st) -> Status {
    pipeline.Stop();
    (void)pipeline.Wait();
    return st;
  };
  std::unique_ptr<Server> server;
  std::shared_ptr<CollectorService> collectors;
  if (!options.once) {
    // People's queries get their own connections: they never wait for the loader nor delay a commit.
    auto readers = warehouse->OpenReaders(kReaderConnections);
    if (!readers.ok()) return abort(readers.status());
    server = std::make_unique<Server>(config, pipeline, *readers);
    if (Status st = server->Start(options.listen); !st.ok()) return abort(st);
    // Scheduled API collectors run beside ingestion, loading through the loader's warehouse.
    auto started =
        StartCollectors(config, [&](const auto& fn) { return pipeline.WithWarehouse(fn); }, seat.leases.get());
    if (!started.ok()) {
      server->Stop();
      return abort(started.status());
    }
    collectors = std::move(*started);
  }
  std::unique_ptr<StatusPublisher> publisher;
  if (seat.coordinator)
    publisher = std::make_unique<StatusPublisher>(seat.coordinator.get(),
                                                  [&] { return DescribeWorker(pipeline, options, t0); });
  Progress progress(metrics, config);
  if (options.progress) progress.Start();
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished) {
      if (StopRequested()) {
        spdlog::info("stopping: finishing the open batches");
        pipeline.Stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::thread transforms;
  if (!options.once)
    transforms = std::thread([&] { RunTransformLoop(pipeline, *transformer, *marts, transform_options, finished); });
  if (!options.once)
    while (!StopRequested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  collectors.reset();  // before the loader stops: runs in flight are asked to stop and awaited
  Status st = pipeline.Wait();
  finished = true;
  watcher.join();
  if (transforms.joinable()) transforms.join();
  if (st.ok()) {
    auto report = transformer->Run(*warehouse, transform_options);
    if (!report.ok())
      st = report.status().WithContext("transform");
    else if (report->tables_changed > 0)
      spdlog::info("transformed: {} table(s) changed, {} hour(s) recomputed", report->tables_changed,
                   report->hours_recomputed);
    if (report.ok())
      st = marts->AfterTransform(*warehouse, *report, transform_options.leases).WithContext("marts");
  }
  if (server) server->Stop();
  publisher.reset();
  progress.Finish();
  RETURN_IF_ERROR(st);
  RunSummary summary;
  summary.seconds = (NowMicros() - t0) / 1e6;
  summary.read = SumOverSources(metrics, "sluice_records_read_total", config);
  summary.loaded = SumOverSources(metrics, "sluice_rows_loaded_total", config);
  summary.dead_lettered = SumOverSources(metrics, "sluice_dead_letters_total", config);
  summary.batches = SumOverSources(metrics, "sluice_batches_total", config);
  return summary;
}

}  // namespace sluice
