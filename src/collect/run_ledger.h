// RunLedger: the record of every collector run (DESIGN.md semantics 6). The scheduler reads it to decide
// what is due (the last slot that succeeded, whether the last attempt failed) and writes each run's start and
// end to it. Production backs it with the warehouse's run ledger (WarehouseRunLedger); tests use
// MemoryRunLedger. RunRecord lives in warehouse/system_records.h.
// Thread-safety: implementations need not be thread-safe; the scheduler calls a ledger from one thread at a
// time (under its own lock).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "warehouse/system_records.h"

namespace sluice {

class RunLedger {
 public:
  virtual ~RunLedger() = default;

  // The most recently started run of `collector`, or nullopt if it never ran.
  virtual Result<std::optional<RunRecord>> LastRun(const std::string& collector) = 0;

  // The latest scheduled slot among `collector`'s succeeded runs, or nullopt if none succeeded. Slots up to
  // and including it need no run.
  virtual Result<std::optional<TimePoint>> LastSucceededSlot(const std::string& collector) = 0;

  // Records a run as started (status kRunning).
  virtual Status RecordStart(const RunRecord& run) = 0;

  // Records how the run `run.run_id` ended: status, ended, rows, error.
  virtual Status RecordEnd(const RunRecord& run) = 0;
};

// A ledger in memory, for tests and for `sluice collect` runs without a warehouse. Thread-safe.
class MemoryRunLedger final : public RunLedger {
 public:
  Result<std::optional<RunRecord>> LastRun(const std::string& collector) override;
  Result<std::optional<TimePoint>> LastSucceededSlot(const std::string& collector) override;
  Status RecordStart(const RunRecord& run) override;
  Status RecordEnd(const RunRecord& run) override;

  // Every run, in start order.
  std::vector<RunRecord> Runs() const;

 private:
  mutable std::mutex mu_;
  std::vector<RunRecord> runs_;
};

}  // namespace sluice
