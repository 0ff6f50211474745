// CollectorService: the collectors' scheduler inside `sluice run`: the configured collectors on their cron
// schedules (catch-up included), each run recorded in `_sluice_runs`, every warehouse use through `warehouse`
// (Pipeline::WithWarehouse: the loader owns the warehouse).
// Thread-safety: ticks on its own thread; destroying it asks runs in flight to stop and waits for them.
#pragma once

#include <memory>

#include "collect/warehouse_run_ledger.h"
#include "core/config.h"
#include "core/status.h"

namespace sluice {

class CollectorService;

// Starts the configured collectors' scheduler; null when the config has no collectors.
Result<std::shared_ptr<CollectorService>> StartCollectors(const Config& config, WarehouseAccess warehouse);

}  // namespace sluice
