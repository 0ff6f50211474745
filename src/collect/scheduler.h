// Scheduler: decides which collectors run when (DESIGN.md semantics 6). On every tick it starts each
// collector whose next cron slot after its last succeeded slot has come. Rules users rely on:
//  - Catch-up: after downtime a collector runs ONCE, for the latest missed slot, not once per missed slot
//    (collectors fetch whole windows, e.g. GitHub's 14 days of traffic, so one run covers the gap).
//  - One run per collector at a time; a tick that finds it still running starts nothing for it.
//  - Timeout: a run past its timeout is recorded as failed ("timed out after ...") and asked to stop through
//    its stop token; the collector is not started again until that run has actually returned.
//  - A failed run is recorded (status failed + error) and retried at the first tick after `retry_delay`,
//    for the same slot, until a run succeeds. A partial run (some parts failed, the rest loaded: see
//    RunReport) is retried the same way; its rows are upserted by key, so the retry only adds what was missing.
//  - Every recorded end counts in sluice_collector_runs_total{collector,status} of CollectorMetrics().
// A collector the ledger has never seen succeed starts from the scheduler's creation time (its first run
// is its next slot); `RunNow` runs one immediately (`sluice collect NAME`).
// With SchedulerOptions::leases, each collector is scheduled by one worker at a time (see there).
// Runs execute on their own threads; the ledger is only touched from Tick/WaitIdle/RunNow, under a lock.
// Thread-safety: all public methods are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "collect/cron.h"
#include "collect/run_ledger.h"
#include "core/clock.h"
#include "core/status.h"
#include "core/work_leases.h"

namespace sluice {

// What a run reports besides its rows; the run function fills it (or leaves it alone) before returning.
struct RunReport {
  std::vector<std::string> failed_parts;  // "part: error" per failed repository/page; with an ok result: partial
  std::string notes;                      // a JSON object for `_sluice_runs.notes`; also kept for a failed run
};

// What a collector is told about the run it is doing.
struct RunContext {
  std::string collector;
  std::string run_id;
  TimePoint scheduled;    // the slot served; collectors stamp `collected_at` from it
  TimePoint deadline;     // when the scheduler gives up on the run
  std::stop_token stop;   // requested on timeout and on scheduler shutdown: return soon (kCancelled)
  Clock* clock = nullptr;
  RunReport* report = nullptr;  // owned by the scheduler; null when the caller wants no report
};

// A collector run: returns the number of rows it loaded, or why it failed.
using CollectFn = std::function<Result<int64_t>(const RunContext&)>;

struct ScheduledCollector {
  std::string name;
  CronSchedule schedule;
  std::chrono::seconds timeout{3600};
  CollectFn run;
};

struct SchedulerOptions {
  Clock* clock = Clock::Real();
  std::chrono::seconds tick{1};           // how often RunUntilStopped ticks: runs start and are recorded within it
  std::chrono::seconds retry_delay{60};   // a failed collector is retried at the first tick after this
  // Several workers: a collector is scheduled only by the worker holding its lease "collect:<name>"; the
  // slot is re-read from the ledger after acquiring and the start is fenced, so no slot runs twice. A run
  // whose lease this worker can no longer be sure of (WorkLeases::StillHeld) is asked to stop at the next
  // tick, before the lease can pass to a worker that would serve the slot again.
  WorkLeases* leases = nullptr;
};

class Scheduler {
 public:
  // `ledger` must outlive the scheduler.
  Scheduler(std::vector<ScheduledCollector> collectors, RunLedger* ledger, SchedulerOptions options = {});
  // Asks running collectors to stop and waits for them.
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // One pass: records runs that finished or timed out, then starts every due collector. Returns the first
  // ledger error (the pass still covers the other collectors).
  Status Tick();

  // Starts a run of `name` now, its slot being now. NotFound for an unknown collector; AlreadyExists while
  // it is running. Returns the run id.
  Result<std::string> RunNow(const std::string& name);

  // Blocks until no run is in flight (timed-out runs included), then records their ends.
  Status WaitIdle();

  // Ticks every `options.tick` until `stop` is requested.
  void RunUntilStopped(std::stop_token stop);

  // Names of collectors with a run in flight.
  std::vector<std::string> Running() const;

 private:
  struct InFlight {
    RunRecord record;
    TimePoint deadline;
    bool timed_out = false;
    bool done = false;           // guarded by mu_
    Result<int64_t> result = 0;  // valid once done
    RunReport report;            // written by the run's thread before done
    std::stop_source stop;
    std::string stop_reason;  // why the scheduler asked it to stop early, for its record
    std::thread thread;
  };

  static std::string LeaseName(const std::string& collector);
  Status StartLocked(const ScheduledCollector& c, TimePoint slot);
  Status ReapLocked();  // records finished and timed-out runs
  Result<std::optional<TimePoint>> DueSlotLocked(const ScheduledCollector& c, TimePoint now);

  std::vector<ScheduledCollector> collectors_;
  RunLedger* ledger_;
  SchedulerOptions options_;
  TimePoint created_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::map<std::string, std::unique_ptr<InFlight>> in_flight_;  // by collector name
};

}  // namespace sluice
