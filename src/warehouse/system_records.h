// Rows of sluice's own tables, as values: what the rest of sluice reads and writes through the Warehouse's
// typed operations instead of SQL, so only src/warehouse/ knows how (and in which engine) they are stored.
// Values; thread-safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace sluice {

// ---- Collector runs (`_sluice_runs`, DESIGN.md semantics 6) ----

// kPartial: the run loaded what it could, but some of its parts (a repository, a page) failed; the
// scheduler retries its slot as it does a failed run's.
enum class RunStatus { kRunning, kSucceeded, kFailed, kPartial };
const char* RunStatusName(RunStatus s);  // "running", "succeeded", "failed", "partial": the values stored
RunStatus ParseRunStatus(const std::string& name);

struct RunRecord {
  std::string collector;
  std::string run_id;   // unique per attempt: "<collector>/<scheduled>/<start millis>"
  TimePoint scheduled;  // the cron slot this run serves (for a manual run, when it was asked for)
  TimePoint started;
  std::optional<TimePoint> ended;  // unset while running
  RunStatus status = RunStatus::kRunning;
  int64_t rows = 0;   // rows loaded
  std::string error;  // why it failed, or which parts failed (partial); empty otherwise
  // A JSON object: what was skipped and why, rate-limit waits, pages fetched, 304s served from the cache,
  // the failed parts and where their evidence landed. Empty when the run said nothing.
  std::string notes;
};

// ---- The HTTP cache of conditional GETs (`_sluice_http_cache`) ----

struct HttpCacheEntry {
  std::string url;                                           // the absolute URL of the GET (never one carrying a token)
  std::string etag;                                          // sent back as If-None-Match
  std::vector<std::pair<std::string, std::string>> headers;  // only the response headers a 304 reuses
  std::string body;                                          // the 200's body, handed back on a 304
  int64_t fetched_at_us = 0;
};

// ---- Transforms (`_sluice_transform_cursor`) ----

// How far a transform target (rollup or model table) has absorbed the batch ledger.
struct TransformCursor {
  int64_t last_seq = 0;    // batches with seq <= last_seq are absorbed
  std::string definition;  // what the table was built from; a change forces a rebuild
};

}  // namespace sluice
