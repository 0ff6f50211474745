// Runtime: what `sluice run` and `sluice ingest --once` are, apart from argument parsing: the warehouse
// prepared and completed from landing, the pipeline (sources and loader), the HTTP server with its readers
// and the collectors' scheduler (run), the transform loop (a second after new batches; --once transforms at
// the end), progress, and a graceful stop on SIGINT/SIGTERM (open batches are cut and loaded first).
// With `coordination:` it runs as one of several workers (runtime/workers.h).
// Thread-safety: RunPipeline blocks the calling thread; it starts and joins its own threads.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/status.h"

namespace sluice {

struct RuntimeOptions {
  bool once = false;     // read every source to its end, load, transform, return (ingest --once)
  std::string listen;    // run: where the server listens (host:port)
  bool progress = true;  // print a progress line every second
  std::string worker;    // --worker: this process's name among the workers sharing the pipeline
};

struct RunSummary {
  int64_t read = 0, loaded = 0, dead_lettered = 0, batches = 0;
  double seconds = 0;
};

// Runs until every source is drained (once) or a stop signal arrives, then finishes the open batches and
// transforms. Errors at start (exposure, warehouse, rollups and models, server) come back before anything is
// read; the error that stopped a running pipeline comes back with it.
Result<RunSummary> RunPipeline(const Config& config, const RuntimeOptions& options);

}  // namespace sluice
