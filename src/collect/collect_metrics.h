// The collectors' counter on /metrics: sluice_collector_runs_total{collector="github",status="partial"}
// counts recorded run ends by final status, in ProcessMetrics() (the scheduler is not the server's).
// Thread-safety: Metrics is thread-safe.
#pragma once

#include "core/metrics.h"
#include "warehouse/system_records.h"

namespace sluice {

// Counts the end of `run` (its final status) in sluice_collector_runs_total of ProcessMetrics().
void CountRunEnd(const RunRecord& run);

}  // namespace sluice
