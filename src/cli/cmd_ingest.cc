// sluice ingest -c FILE --once: read every source to its end, load, transform, exit.
// sluice run -c FILE [--listen HOST:PORT] [--worker NAME]: ingest and serve until SIGINT/SIGTERM
// (runtime/runtime.h); --worker names this process among several sharing the pipeline (coordination:).
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/cli.h"
#include "runtime/runtime.h"

namespace sluice::cli {

int Ingest(const Args& args, bool once) {
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  RuntimeOptions options;
  options.once = once;
  options.listen = args.Get("listen", config->listen);
  options.progress = !args.Has("quiet");
  options.worker = args.Get("worker", "");
  auto summary = RunPipeline(*config, options);
  if (!summary.ok()) {
    spdlog::error("{}", summary.status().message());
    return 1;
  }
  std::printf("read %lld records: loaded %lld, dead-lettered %lld, in %lld batches, %.2f s (%.0f records/s)\n",
              static_cast<long long>(summary->read), static_cast<long long>(summary->loaded),
              static_cast<long long>(summary->dead_lettered), static_cast<long long>(summary->batches),
              summary->seconds, summary->seconds > 0 ? summary->read / summary->seconds : 0.0);
  return 0;
}

}  // namespace sluice::cli
