#include "collect/scheduler.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "collect/collect_metrics.h"
#include "core/time.h"

namespace sluice {
namespace {

std::string Iso(TimePoint t) {
  return FormatIsoMicros(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

int64_t Millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Enough to step over a year of minutes; beyond that the exact catch-up slot matters less than returning.
constexpr int kMaxCatchUpSteps = 600'000;

}  // namespace

Scheduler::Scheduler(std::vector<ScheduledCollector> collectors, RunLedger* ledger, SchedulerOptions options)
    : collectors_(std::move(collectors)), ledger_(ledger), options_(options), created_(options_.clock->Now()) {}

Scheduler::~Scheduler() {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [name, run] : in_flight_) run->stop.request_stop();
  // Runs return soon once asked. Their ends are recorded, so a restart does not find a run that finished
  // (or was cut short) still "running" and serve its slot again.
  done_cv_.wait(lock, [this] {
    for (auto& [name, run] : in_flight_)
      if (!run->done) return false;
    return true;
  });
  Status st = ReapLocked();
  if (!st.ok()) spdlog::warn("collect: recording the runs' ends at shutdown: {}", st.ToString());
}

Result<std::optional<TimePoint>> Scheduler::DueSlotLocked(const ScheduledCollector& c, TimePoint now) {
  ASSIGN_OR_RETURN(std::optional<TimePoint> last_ok, ledger_->LastSucceededSlot(c.name));
  TimePoint slot = c.schedule.NextAfter(last_ok.value_or(created_));
  if (slot > now) return std::optional<TimePoint>();
  // Catch-up: serve only the latest slot that has come, however many were missed.
  for (int i = 0; i < kMaxCatchUpSteps; ++i) {
    TimePoint next = c.schedule.NextAfter(slot);
    if (next > now) break;
    slot = next;
  }
  ASSIGN_OR_RETURN(std::optional<RunRecord> last, ledger_->LastRun(c.name));
  const bool retrying = last && (last->status == RunStatus::kFailed || last->status == RunStatus::kPartial);
  if (retrying && last->ended &&
      *last->ended + options_.retry_delay > now) {
    return std::optional<TimePoint>();  // failed recently: wait out the retry delay
  }
  return std::optional<TimePoint>(slot);
}

std::string Scheduler::LeaseName(const std::string& collector) { return "collect:" + collector; }

Status Scheduler::StartLocked(const ScheduledCollector& c, TimePoint slot) {
  // An owner paused past its lease must not start a slot its successor may be serving.
  if (options_.leases) RETURN_IF_ERROR(options_.leases->Fence(LeaseName(c.name)).WithContext("lease of " + c.name));
  const TimePoint now = options_.clock->Now();
  auto run = std::make_unique<InFlight>();
  run->record.collector = c.name;
  run->record.scheduled = slot;
  run->record.started = now;
  run->record.run_id = c.name + "/" + Iso(slot) + "/" + std::to_string(Millis(now));
  run->deadline = now + c.timeout;
  RETURN_IF_ERROR(ledger_->RecordStart(run->record).WithContext("recording start of " + run->record.run_id));
  spdlog::info("collect: starting {} (slot {})", run->record.run_id, Iso(slot));

  RunContext ctx{c.name, run->record.run_id, slot, run->deadline, run->stop.get_token(), options_.clock, &run->report};
  InFlight* raw = run.get();
  const CollectFn* fn = &c.run;
  in_flight_[c.name] = std::move(run);
  raw->thread = std::thread([this, raw, fn, ctx] {
    Result<int64_t> result = Status::Internal("collector did not return");
    try {
      result = (*fn)(ctx);
    } catch (const std::exception& e) {
      result = Status::Internal(std::string("collector threw: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    raw->result = std::move(result);
    raw->done = true;
    done_cv_.notify_all();
  });
  return Status::Ok();
}

Status Scheduler::ReapLocked() {
  Status first;
  const TimePoint now = options_.clock->Now();
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    InFlight& run = *it->second;
    if (!run.done && !run.timed_out && now >= run.deadline) {
      // The thread cannot be killed; record the failure now and keep the collector blocked until it returns.
      run.timed_out = true;
      run.stop.request_stop();
      run.record.status = RunStatus::kFailed;
      run.record.ended = now;
      run.record.error = "timed out after " +
                         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(run.deadline - run.record.started).count()) + "s";
      spdlog::warn("collect: {} {}", run.record.run_id, run.record.error);
      CountRunEnd(run.record);
      Status st = ledger_->RecordEnd(run.record);
      if (first.ok()) first = st;
    }
    if (!run.done) {
      ++it;
      continue;
    }
    if (!run.timed_out) {
      run.record.ended = now;
      run.record.notes = run.report.notes;
      if (run.result.ok() && !run.report.failed_parts.empty()) {
        run.record.status = RunStatus::kPartial;
        run.record.rows = *run.result;
        for (const std::string& part : run.report.failed_parts)
          run.record.error += (run.record.error.empty() ? "" : "; ") + part;
        spdlog::warn("collect: {} partial, {} rows; failed: {}", run.record.run_id, run.record.rows, run.record.error);
      } else if (run.result.ok()) {
        run.record.status = RunStatus::kSucceeded;
        run.record.rows = *run.result;
        spdlog::info("collect: {} succeeded, {} rows", run.record.run_id, run.record.rows);
      } else {
        run.record.status = RunStatus::kFailed;
        run.record.error = run.result.status().ToString();
        if (!run.stop_reason.empty()) run.record.error += " (" + run.stop_reason + ")";
        spdlog::warn("collect: {} failed: {}", run.record.run_id, run.record.error);
      }
      CountRunEnd(run.record);
      Status st = ledger_->RecordEnd(run.record);
      if (first.ok()) first = st;
    }
    run.thread.join();  // it has set done, so this returns at once
    it = in_flight_.erase(it);
  }
  return first;
}

Status Scheduler::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  Status first = ReapLocked();
  const TimePoint now = options_.clock->Now();
  if (options_.leases) {
    // A run whose lease may be passing on (ZooKeeper has not confirmed this worker lately) stops before the
    // next owner can start the same slot; what it landed and loaded so far is idempotent.
    for (auto& [name, run] : in_flight_) {
      if (run->done || run->stop.stop_requested() || options_.leases->StillHeld(LeaseName(name))) continue;
      run->stop_reason = "asked to stop: the lease " + LeaseName(name) + " may pass to another worker";
      spdlog::warn("collect: {}: {}", run->record.run_id, run->stop_reason);
      run->stop.request_stop();
    }
  }
  for (const ScheduledCollector& c : collectors_) {
    if (in_flight_.count(c.name)) continue;
    if (options_.leases) {
      // Another worker schedules it while it holds the lease; the ledger below is read after acquiring, so
      // a slot the previous owner finished is not due any more.
      auto mine = options_.leases->Acquire(LeaseName(c.name));
      if (!mine.ok() || !*mine) {
        if (!mine.ok()) spdlog::warn("collect: {}: lease: {}", c.name, mine.status().message());
        continue;
      }
    }
    auto due = DueSlotLocked(c, now);
    Status st = due.ok() ? (*due ? StartLocked(c, **due) : Status::Ok()) : due.status();
    if (!st.ok()) {
      spdlog::error("collect: {}: {}", c.name, st.ToString());
      if (first.ok()) first = st;
    }
  }
  return first;
}

Result<std::string> Scheduler::RunNow(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(ReapLocked());
  for (const ScheduledCollector& c : collectors_) {
    if (c.name != name) continue;
    if (in_flight_.count(name)) return Status::AlreadyExists("collector " + name + " is already running");
    RETURN_IF_ERROR(StartLocked(c, options_.clock->Now()));
    return in_flight_[name]->record.run_id;
  }
  return Status::NotFound("no collector named " + name);
}

Status Scheduler::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [this] {
    for (auto& [name, run] : in_flight_) {
      if (!run->done) return false;
    }
    return true;
  });
  return ReapLocked();
}

void Scheduler::RunUntilStopped(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Status st = Tick();
    (void)st;  // already logged per collector
    // Sleep in short steps so a stop request is honoured promptly on the real clock.
    for (auto left = std::chrono::nanoseconds(options_.tick); left.count() > 0 && !stop.stop_requested();
         left -= std::chrono::seconds(1)) {
      options_.clock->SleepFor(std::min<std::chrono::nanoseconds>(left, std::chrono::seconds(1)));
    }
  }
}

std::vector<std::string> Scheduler::Running() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  for (auto& [name, run] : in_flight_) names.push_back(name);
  return names;
}

}  // namespace sluice
