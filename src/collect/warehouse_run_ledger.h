// WarehouseRunLedger: the production RunLedger, on the warehouse's run ledger (`_sluice_runs`), so a restarted
// sluice knows what ran, what failed and which slot to catch up (DESIGN.md semantics 6), and users can
// query run history with SQL.
// The warehouse is reached through a WarehouseAccess function rather than held, because in `sluice run` the
// loader owns it: every statement goes through Pipeline::WithWarehouse there, and straight to the warehouse
// in one-shot commands.
// Thread-safety: as safe as the access function (the scheduler calls a ledger under its own lock anyway).
#pragma once

#include <functional>

#include "collect/run_ledger.h"
#include "warehouse/warehouse.h"

namespace sluice {

// Runs `fn` with exclusive use of the warehouse and returns its status.
using WarehouseAccess = std::function<Status(const std::function<Status(Warehouse&)>& fn)>;

// Access to a warehouse the caller owns outright (`w` must outlive the returned function). Calls through the
// returned function and its copies are serialised (a collector's HTTP threads, its loader and the ledger
// share one); calls through two separate DirectWarehouseAccess results are not. Not reentrant.
WarehouseAccess DirectWarehouseAccess(Warehouse& w);

class WarehouseRunLedger final : public RunLedger {
 public:
  explicit WarehouseRunLedger(WarehouseAccess access) : access_(std::move(access)) {}

  Result<std::optional<RunRecord>> LastRun(const std::string& collector) override;
  Result<std::optional<TimePoint>> LastSucceededSlot(const std::string& collector) override;
  Status RecordStart(const RunRecord& run) override;
  Status RecordEnd(const RunRecord& run) override;

  // Every run of `collector` ("" for all), oldest first.
  Result<std::vector<RunRecord>> Runs(const std::string& collector = "");

 private:
  WarehouseAccess access_;
};

}  // namespace sluice
