#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "batching/pipeline.h"
#include "cli/cli.h"
#include "core/time.h"
#include "serve/exposure.h"
#include "serve/server.h"
#include "transform/transformer.h"

namespace sluice::cli {
namespace {

// Reader connections for the query API and dashboards: queries beyond these wait for a free one.
constexpr size_t kReaderConnections = 4;

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

int64_t SumCounter(Metrics& m, const std::string& name, const Config& config) {
  int64_t total = 0;
  for (const auto& s : config.streams)
    for (const auto& src : s.sources)
      total += m.Get(name, "stream=\"" + s.name + "\",source=\"" + src.name + "\"");
  return total;
}

// Prints a progress line every second while `running`: records, rate, dead letters, batches.
class Progress {
 public:
  Progress(Metrics& m, const Config& c) : metrics_(m), config_(c), tty_(isatty(2)) {}
  void Start() {
    start_ = NowMicros();
    thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return done_; })) Print(false);
    });
  }
  void Finish() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (tty_) std::fprintf(stderr, "\n");
  }
  void Print(bool) {
    double secs = (NowMicros() - start_) / 1e6;
    int64_t rows = SumCounter(metrics_, "sluice_rows_loaded_total", config_);
    int64_t dead = SumCounter(metrics_, "sluice_dead_letters_total", config_);
    int64_t batches = SumCounter(metrics_, "sluice_batches_total", config_);
    std::fprintf(stderr, "%s[sluice] %.0fs  loaded %lld  dead-lettered %lld  batches %lld  (%.0f rows/s)%s",
                 tty_ ? "\r" : "", secs, static_cast<long long>(rows), static_cast<long long>(dead),
                 static_cast<long long>(batches), secs > 0 ? rows / secs : 0.0, tty_ ? "   " : "\n");
    std::fflush(stderr);
  }

 private:
  Metrics& metrics_;
  const Config& config_;
  bool tty_;
  int64_t start_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace

// sluice ingest -c FILE --once: read every source to its end, load, exit.
// sluice run -c FILE: ingest and serve until SIGINT/SIGTERM, then cut the open batches, load them, exit.
int Ingest(const Args& args, bool once) {
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  // Who may reach the server is settled before anything is read: a refused exposure must not ingest first.
  if (!once)
    if (auto token = ResolveServerToken(*config, args.Get("listen", config->listen)); !token.ok()) {
      spdlog::error("{}", token.status().message());
      return 1;
    }
  auto warehouse = OpenWarehouse(*config);
  if (!warehouse.ok()) {
    spdlog::error("{}", warehouse.status().message());
    return 1;
  }
  if (Status st = (*warehouse)->Prepare(*config); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  // Rollups and models are checked before anything is read: a bad one is an error at start.
  auto transformer = Transformer::Create(*config);
  if (!transformer.ok()) {
    spdlog::error("{}", transformer.status().message());
    return 1;
  }
  Metrics metrics;
  Pipeline pipeline(*config, **warehouse, metrics);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  int64_t t0 = NowMicros();
  if (Status st = pipeline.Start(once); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  std::unique_ptr<Server> server;
  if (!once) {
    // People's queries get their own connections: they never wait for the loader nor delay a commit.
    auto readers = (*warehouse)->OpenReaders(kReaderConnections);
    if (!readers.ok()) {
      spdlog::error("{}", readers.status().message());
      pipeline.Stop();
      (void)pipeline.Wait();
      return 1;
    }
    server = std::make_unique<Server>(*config, pipeline, *readers);
    if (Status st = server->Start(args.Get("listen", config->listen)); !st.ok()) {
      spdlog::error("{}", st.message());
      pipeline.Stop();
      (void)pipeline.Wait();
      return 1;
    }
  }
  // Scheduled API collectors (issue 4) run beside ingestion, loading through the loader's warehouse.
  std::shared_ptr<CollectorService> collectors;
  if (!once) {
    auto started = StartCollectors(*config, [&](const auto& fn) { return pipeline.WithWarehouse(fn); });
    if (!started.ok()) {
      spdlog::error("{}", started.status().message());
      if (server) server->Stop();
      pipeline.Stop();
      (void)pipeline.Wait();
      return 1;
    }
    collectors = std::move(*started);
  }
  Progress progress(metrics, *config);
  if (!args.Has("quiet")) progress.Start();
  std::thread watcher;
  std::atomic<bool> finished{false};
  watcher = std::thread([&] {
    while (!finished) {
      if (g_stop) {
        spdlog::info("stopping: finishing the open batches");
        pipeline.Stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  // Transforms follow loads, debounced: at most one run a second, only when batches were loaded since.
  std::thread transforms;
  if (!once) {
    transforms = std::thread([&] {
      while (!finished) {
        for (int i = 0; i < 10 && !finished; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        Status ts = pipeline.WithWarehouse([&](Warehouse& w) -> Status {
          ASSIGN_OR_RETURN(bool fresh, (*transformer)->HasNewBatches(w));
          return fresh ? (*transformer)->Run(w).status() : Status::Ok();
        });
        if (!ts.ok()) spdlog::warn("transform: {}", ts.message());
      }
    });
  }
  if (!once) {
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  collectors.reset();  // before the loader stops: runs in flight are asked to stop and awaited
  Status st = pipeline.Wait();
  finished = true;
  watcher.join();
  if (transforms.joinable()) transforms.join();
  if (st.ok()) {
    auto report = (*transformer)->Run(**warehouse);
    if (!report.ok()) st = report.status().WithContext("transform");
    else if (report->tables_changed > 0)
      spdlog::info("transformed: {} table(s) changed, {} hour(s) recomputed", report->tables_changed,
                   report->hours_recomputed);
  }
  if (server) server->Stop();
  if (!args.Has("quiet")) progress.Finish();
  double secs = (NowMicros() - t0) / 1e6;
  int64_t read = SumCounter(metrics, "sluice_records_read_total", *config);
  int64_t rows = SumCounter(metrics, "sluice_rows_loaded_total", *config);
  int64_t dead = SumCounter(metrics, "sluice_dead_letters_total", *config);
  int64_t batches = SumCounter(metrics, "sluice_batches_total", *config);
  std::printf("read %lld records: loaded %lld, dead-lettered %lld, in %lld batches, %.2f s (%.0f records/s)\n",
              static_cast<long long>(read), static_cast<long long>(rows), static_cast<long long>(dead),
              static_cast<long long>(batches), secs, secs > 0 ? read / secs : 0.0);
  if (!st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  return 0;
}

}  // namespace sluice::cli
