// CollectLoader: the last step of a collector run (DESIGN.md semantics 5). Lands the run's raw responses as
// one JSON file, landing/collect/<collector>/dt=YYYY-MM-DD/<run>.json (an array of {url, status, fetched_at,
// from_cache, body}), then upserts its rows into the collect tables all or nothing (Warehouse::UpsertRows): a
// row replaces the row with the same natural key, so re-running a day leaves the tables as they were.
// Thread-safety: functions; the Warehouse they are given must not be used concurrently (its contract).
#pragma once

#include <string>

#include "collect/collector_output.h"
#include "core/status.h"
#include "warehouse/warehouse.h"

namespace sluice {

// Writes the landing file durably and returns its path.
Result<std::string> LandCollectorOutput(const std::string& landing_root, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out);

// Creates the collect tables and views if needed, then upserts every row. Returns rows written.
Result<int64_t> LoadCollectorOutput(Warehouse& warehouse, const CollectorOutput& out);

}  // namespace sluice
