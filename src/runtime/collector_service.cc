#include "runtime/collector_service.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "collect/collector_config.h"
#include "collect/collector_runner.h"
#include "collect/scheduler.h"
#include "collect/warehouse_etag_cache.h"
#include "reports/report_runner.h"

namespace sluice {

class CollectorService {
 public:
  std::unique_ptr<WarehouseRunLedger> ledger;
  std::unique_ptr<Scheduler> scheduler;
  std::jthread ticker;
  ~CollectorService() {
    ticker.request_stop();
    if (ticker.joinable()) ticker.join();
    scheduler.reset();  // asks runs in flight to stop and waits for them
  }
};

Result<std::shared_ptr<CollectorService>> StartCollectors(const Config& config, WarehouseAccess warehouse,
                                                          WorkLeases* leases) {
  ASSIGN_OR_RETURN(std::vector<CollectorConfig> collectors, ReadCollectors(config.collectors, config.file));
  // Scheduled reports share the scheduler (time zone, catch-up, ledger, leases) as "report:<name>"; their
  // SQL runs on reader connections of their own.
  auto open_readers = [&]() -> Result<std::shared_ptr<Readers>> {
    std::shared_ptr<Readers> readers;
    RETURN_IF_ERROR(warehouse([&](Warehouse& w) -> Status {
      ASSIGN_OR_RETURN(readers, w.OpenReaders(2));
      return Status::Ok();
    }));
    return readers;
  };
  ASSIGN_OR_RETURN(std::vector<ScheduledCollector> reports,
                   ScheduleReports(config, open_readers, OpenObjectStore(config)));
  if (collectors.empty() && reports.empty()) return std::shared_ptr<CollectorService>();
  auto service = std::make_shared<CollectorService>();
  service->ledger = std::make_unique<WarehouseRunLedger>(warehouse);
  // One persistent ETag cache for every collector: its rows are keyed by URL.
  std::shared_ptr<EtagCache> etag_cache = MakePersistentEtagCache(warehouse);
  std::vector<ScheduledCollector> scheduled;
  for (const CollectorConfig& c : collectors) {
    scheduled.push_back(
        MakeScheduledCollector(c, {config.landing_path, warehouse, etag_cache, OpenObjectStore(config)}));
    spdlog::info("collector {}: {} schedule \"{}\" ({})", c.name, c.kind, c.schedule->expression(),
                 c.schedule->time_zone());
  }
  for (ScheduledCollector& r : reports) scheduled.push_back(std::move(r));
  SchedulerOptions options;
  options.leases = leases;
  service->scheduler = std::make_unique<Scheduler>(std::move(scheduled), service->ledger.get(), options);
  Scheduler* s = service->scheduler.get();
  service->ticker = std::jthread([s](std::stop_token stop) { s->RunUntilStopped(stop); });
  return service;
}

}  // namespace sluice
