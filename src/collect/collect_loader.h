// CollectLoader: the last step of a collector run (DESIGN.md semantics 5). Lands the run's raw responses as
// one JSON object, collect/<collector>/dt=YYYY-MM-DD/<run>.json in the landing store (a folder or an S3
// bucket: landing/object_store.h; an array of {url, status, fetched_at, from_cache, body}), then upserts its
// rows into the collect tables all or nothing (Warehouse::UpsertRows): a row replaces the row with the same
// natural key, so re-running a day leaves the tables as they were.
// Thread-safety: functions; the Warehouse they are given must not be used concurrently (its contract).
#pragma once

#include <string>

#include "collect/collector_output.h"
#include "core/status.h"
#include "landing/object_store.h"
#include "warehouse/warehouse.h"

namespace sluice {

// Writes the landing object durably, never replacing one (a run id landed again with other bytes goes to
// <run>~2.json: PutVersioned), and returns its locator (a path, or s3://bucket/key).
Result<std::string> LandCollectorOutput(ObjectStore& landing, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out);
// Lands the evidence of `out.failed` beside the run, as collect/<collector>/dt=.../<run>.failed.json: per
// failed part its name, error, URL (redacted), status, content type and raw body as text, capped at
// kEvidenceBodyCap bytes (with the full length). Request headers are never landed. Returns its locator, ""
// when no part failed.
inline constexpr size_t kEvidenceBodyCap = 64 * 1024;
Result<std::string> LandFailureEvidence(ObjectStore& landing, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out);

// The run's notes for `_sluice_runs.notes`, as a JSON object: pages_fetched, served_from_cache,
// rate_limit_waits, skipped [{part, what, reason}], failed [{part, error}], messages, and `landed` and
// `evidence` when given.
nlohmann::json CollectorNotes(const CollectorOutput& out, const std::string& landed, const std::string& evidence);

// The same into the local folder `landing_root`.
Result<std::string> LandCollectorOutput(const std::string& landing_root, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out);

// Creates the collect tables and views if needed, then upserts every row. Returns rows written.
Result<int64_t> LoadCollectorOutput(Warehouse& warehouse, const CollectorOutput& out);

}  // namespace sluice
