#include "collect/run_ledger.h"

namespace sluice {

Result<std::optional<RunRecord>> MemoryRunLedger::LastRun(const std::string& collector) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    if (it->collector == collector) return std::optional<RunRecord>(*it);
  }
  return std::optional<RunRecord>();
}

Result<std::optional<TimePoint>> MemoryRunLedger::LastSucceededSlot(const std::string& collector) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<TimePoint> best;
  for (const RunRecord& r : runs_) {
    if (r.collector == collector && r.status == RunStatus::kSucceeded && (!best || r.scheduled > *best)) {
      best = r.scheduled;
    }
  }
  return best;
}

Status MemoryRunLedger::RecordStart(const RunRecord& run) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const RunRecord& r : runs_) {
    if (r.run_id == run.run_id) return Status::AlreadyExists("run " + run.run_id + " already recorded");
  }
  runs_.push_back(run);
  return Status::Ok();
}

Status MemoryRunLedger::RecordEnd(const RunRecord& run) {
  std::lock_guard<std::mutex> lock(mu_);
  for (RunRecord& r : runs_) {
    if (r.run_id == run.run_id) {
      r.ended = run.ended;
      r.status = run.status;
      r.rows = run.rows;
      r.error = run.error;
      r.notes = run.notes;
      return Status::Ok();
    }
  }
  return Status::NotFound("run " + run.run_id + " was never started");
}

std::vector<RunRecord> MemoryRunLedger::Runs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

}  // namespace sluice
