// CollectorService: the collectors' scheduler inside `sluice run`: the configured collectors and scheduled
// reports (src/reports, as "report:<name>") on their cron schedules (catch-up included), each run recorded in
// `_sluice_runs`, every warehouse use through `warehouse` (Pipeline::WithWarehouse: the loader owns the
// warehouse; reports query reader connections opened through it at start).
// Thread-safety: ticks on its own thread; destroying it asks runs in flight to stop and waits for them.
#pragma once

#include <memory>

#include "collect/warehouse_run_ledger.h"
#include "core/config.h"
#include "core/status.h"
#include "core/work_leases.h"

namespace sluice {

class CollectorService;

// Starts the configured collectors' and reports' scheduler; null when the config has neither. With `leases`
// (several workers), each collector is scheduled only by the worker holding its lease.
Result<std::shared_ptr<CollectorService>> StartCollectors(const Config& config, WarehouseAccess warehouse,
                                                          WorkLeases* leases = nullptr);

}  // namespace sluice
