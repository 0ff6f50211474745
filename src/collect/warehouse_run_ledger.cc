#include "collect/warehouse_run_ledger.h"

#include <memory>
#include <mutex>

namespace sluice {

WarehouseAccess DirectWarehouseAccess(Warehouse& w) {
  auto mu = std::make_shared<std::mutex>();
  return [&w, mu](const std::function<Status(Warehouse&)>& fn) {
    std::lock_guard<std::mutex> lock(*mu);
    return fn(w);
  };
}

Result<std::vector<RunRecord>> WarehouseRunLedger::Runs(const std::string& collector) {
  std::vector<RunRecord> out;
  RETURN_IF_ERROR(access_([&](Warehouse& w) -> Status {
    ASSIGN_OR_RETURN(out, w.Runs(collector));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<RunRecord>> WarehouseRunLedger::LastRun(const std::string& collector) {
  ASSIGN_OR_RETURN(auto runs, Runs(collector));
  if (runs.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(std::move(runs.back()));
}

Result<std::optional<TimePoint>> WarehouseRunLedger::LastSucceededSlot(const std::string& collector) {
  ASSIGN_OR_RETURN(auto runs, Runs(collector));
  std::optional<TimePoint> best;
  for (const RunRecord& r : runs)
    if (r.status == RunStatus::kSucceeded && (!best || r.scheduled > *best)) best = r.scheduled;
  return best;
}

Status WarehouseRunLedger::RecordStart(const RunRecord& run) {
  return access_([&](Warehouse& w) { return w.PutRun(run); }).WithContext("recording the start of run " + run.run_id);
}

Status WarehouseRunLedger::RecordEnd(const RunRecord& run) {
  return access_([&](Warehouse& w) { return w.PutRun(run); }).WithContext("recording the end of run " + run.run_id);
}

}  // namespace sluice
