// Running a configured collector end to end: build its HttpClient (base URL, token, headers, retries, the
// run's stop token), collect, land the raw responses, load the rows (DESIGN.md semantics 5). Used by the
// scheduler in `sluice run`, by `sluice collect NAME` and by the demo.
// Thread-safety: RunCollector is a function of its arguments; the warehouse is reached only through the
// WarehouseAccess, which serialises use.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collect/collector_config.h"
#include "collect/collector_output.h"
#include "collect/scheduler.h"
#include "collect/warehouse_run_ledger.h"
#include "core/http_client.h"
#include "landing/object_store.h"

namespace sluice {

struct CollectorRunOptions {
  std::string landing_root;            // landing/collect/<collector>/dt=.../ goes under it
  WarehouseAccess warehouse;
  // Kept across runs for conditional GETs: a WarehouseEtagCache in `sluice collect` and `sluice run`, so
  // ETags outlive the process. Null: a fresh MemoryEtagCache per run (per scheduled collector for
  // MakeScheduledCollector).
  std::shared_ptr<EtagCache> etag_cache;
  // Where the raw responses land (OpenObjectStore: a folder or an S3 bucket). Null: the folder landing_root.
  std::shared_ptr<ObjectStore> landing;
};

struct CollectorRunSummary {
  std::map<std::string, int64_t> rows_per_table;
  int64_t rows = 0;
  std::string landed_file;
  std::string evidence_file;               // the failed parts' responses (LandFailureEvidence), or ""
  std::vector<std::string> notes;
  std::vector<std::string> failed_parts;   // "part: error"; non-empty with rows loaded: a partial run
  std::string notes_json;                  // CollectorNotes, as stored in `_sluice_runs.notes`
};

// The HttpClient options of `config`'s runs: API name (for rate-limit messages), base URL, token env var,
// retries, the run's clock and stop token, an http_json collector's headers (NotFound naming an unset env
// var). `etag_cache` null: no conditional GETs.
Result<HttpClientOptions> CollectorHttpOptions(const CollectorConfig& config, const RunContext& ctx,
                                               std::shared_ptr<EtagCache> etag_cache);
// Collects one run of `config` through `client`, by kind; lands and loads nothing.
Result<CollectorOutput> CollectOnce(const CollectorConfig& config, HttpClient& client, const RunContext& ctx);

// Collects, lands and loads one run of `config` described by `ctx` (run id, slot, stop token, clock).
// Parts that fail (a repository, a page) are landed as evidence beside the run and listed in
// failed_parts while the others load; when every part failed the run fails. ctx.report, when set, gets the
// failed parts and the notes, also for a failed run.
Result<CollectorRunSummary> RunCollector(const CollectorConfig& config, const RunContext& ctx,
                                         const CollectorRunOptions& options);

// The scheduler's view of `config`: its schedule, timeout and a run function calling RunCollector (with an
// ETag cache shared by its runs).
ScheduledCollector MakeScheduledCollector(const CollectorConfig& config, CollectorRunOptions options);

}  // namespace sluice
