#include "collect/scheduler.h"
#include "core/metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "core/time.h"

namespace sluice {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(const std::string& iso) {
  return TimePoint(std::chrono::microseconds(ParseIsoMicros(iso).value()));
}
std::string Iso(TimePoint t) {
  return FormatIsoMicros(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

CronSchedule Cron(const char* expr) { return CronSchedule::Parse(expr).value(); }

// A door a collector waits at until the test opens it.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerOptions Options() {
    SchedulerOptions o;
    o.clock = &clock_;
    o.tick = seconds(30);
    o.retry_delay = seconds(60);
    return o;
  }
  std::vector<std::string> Slots(const std::string& collector) {
    std::vector<std::string> out;
    for (const RunRecord& r : ledger_.Runs()) {
      if (r.collector == collector) out.push_back(Iso(r.scheduled));
    }
    return out;
  }

  FakeClock clock_{At("2024-01-01T02:59:30Z")};
  MemoryRunLedger ledger_;
};

TEST_F(SchedulerTest, RunsACollectorAtItsFireTimeOnce) {
  std::atomic<int> calls{0};
  Scheduler s({{"github", Cron("0 3 * * *"), seconds(600),
                [&](const RunContext&) -> Result<int64_t> {
                  ++calls;
                  return int64_t{42};
                }}},
              &ledger_, Options());
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 0) << "not due before 03:00";

  clock_.Advance(seconds(40));  // 03:00:10
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 1);
  auto runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kSucceeded);
  EXPECT_EQ(runs[0].rows, 42);
  EXPECT_EQ(Iso(runs[0].started), "2024-01-01T03:00:10Z");
  EXPECT_TRUE(runs[0].ended.has_value());

  clock_.Advance(hours(24));  // next day's slot
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(Slots("github"), (std::vector<std::string>{"2024-01-01T03:00:00Z", "2024-01-02T03:00:00Z"}));
}

// Leases as ZooKeeper arbitrates them between workers: one owner per name; `Move` hands a lease to another
// worker the way a session expiry does, and the old owner's fence is refused from then on.
class SharedLeases {
 public:
  class View : public WorkLeases {
   public:
    View(SharedLeases* shared, std::string me) : shared_(shared), me_(std::move(me)) {}
    Result<bool> Acquire(const std::string& name) override {
      std::lock_guard<std::mutex> lock(shared_->mu_);
      auto [it, fresh] = shared_->owner_.emplace(name, me_);
      return it->second == me_;
    }
    Status Fence(const std::string& name) override {
      std::lock_guard<std::mutex> lock(shared_->mu_);
      auto it = shared_->owner_.find(name);
      return it != shared_->owner_.end() && it->second == me_ ? Status::Ok() : Status::Cancelled("lease lost");
    }
    void Release(const std::string& name) override {
      std::lock_guard<std::mutex> lock(shared_->mu_);
      if (shared_->owner_[name] == me_) shared_->owner_.erase(name);
    }

   private:
    SharedLeases* shared_;
    std::string me_;
  };
  void Move(const std::string& name, const std::string& to) {
    std::lock_guard<std::mutex> lock(mu_);
    owner_[name] = to;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> owner_;
};

TEST_F(SchedulerTest, TwoWorkersNeverRunASlotTwice) {
  SharedLeases leases;
  SharedLeases::View a_leases(&leases, "a"), b_leases(&leases, "b");
  std::atomic<int> runs_a{0}, runs_b{0};
  auto make = [&](std::atomic<int>& runs, WorkLeases* l) {
    SchedulerOptions o = Options();
    o.leases = l;
    return std::make_unique<Scheduler>(
        std::vector<ScheduledCollector>{{"github", Cron("0 3 * * *"), seconds(600),
                                         [&runs](const RunContext&) -> Result<int64_t> { return int64_t{++runs}; }}},
        &ledger_, o);
  };
  auto a = make(runs_a, &a_leases);
  auto b = make(runs_b, &b_leases);
  clock_.Advance(seconds(40));  // 03:00:10: both see the slot come
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a->Tick().ok());
    ASSERT_TRUE(b->Tick().ok());
    ASSERT_TRUE(a->WaitIdle().ok());
    ASSERT_TRUE(b->WaitIdle().ok());
  }
  EXPECT_EQ(runs_a + runs_b, 1);
  // Worker a's lease passes to b (a died, or paused past its lease): b finds the slot done, and serves the
  // next one; a, waking up, is refused at its fence and starts nothing.
  leases.Move("collect:github", "b");
  ASSERT_TRUE(b->Tick().ok());
  ASSERT_TRUE(b->WaitIdle().ok());
  EXPECT_EQ(runs_a + runs_b, 1);
  clock_.Advance(hours(24));
  ASSERT_TRUE(a->Tick().ok());
  ASSERT_TRUE(b->Tick().ok());
  ASSERT_TRUE(a->WaitIdle().ok());
  ASSERT_TRUE(b->WaitIdle().ok());
  EXPECT_EQ(runs_b, runs_a == 1 ? 1 : 2);
  EXPECT_EQ(Slots("github"), (std::vector<std::string>{"2024-01-01T03:00:00Z", "2024-01-02T03:00:00Z"}));
}

// A worker whose ZooKeeper session is not confirmed lately (cut off, or paused): its lease may pass on as soon
// as the session expires, so a run under it is asked to stop at the next tick, before another worker could
// serve the same slot; it is recorded as failed, with why, and nothing starts while the lease is not held.
class UnsureLeases : public WorkLeases {
 public:
  std::atomic<bool> sure{true};
  Result<bool> Acquire(const std::string&) override { return sure.load(); }
  Status Fence(const std::string& name) override { return sure ? Status::Ok() : Status::Stale("lost " + name); }
  void Release(const std::string&) override {}
  bool StillHeld(const std::string&) override { return sure; }
};

TEST_F(SchedulerTest, ARunWhoseLeaseMayPassOnIsAskedToStop) {
  UnsureLeases leases;
  SchedulerOptions o = Options();
  o.leases = &leases;
  std::atomic<int> starts{0};
  std::atomic<bool> saw_stop{false};
  Scheduler s({{"github", Cron("0 3 * * *"), seconds(600),
                [&](const RunContext& ctx) -> Result<int64_t> {
                  ++starts;
                  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                  while (!ctx.stop.stop_requested() && std::chrono::steady_clock::now() < give_up)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                  saw_stop = ctx.stop.stop_requested();
                  return Status::Cancelled("stopped");
                }}},
              &ledger_, o);
  clock_.Advance(seconds(40));  // 03:00:10: the slot is due
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.Tick().ok());
  EXPECT_EQ(ledger_.Runs().at(0).status, RunStatus::kRunning) << "the lease is still sure: the run goes on";

  leases.sure = false;
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_TRUE(saw_stop);
  auto runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kFailed);
  EXPECT_NE(runs[0].error.find("the lease collect:github may pass to another worker"), std::string::npos)
      << runs[0].error;
  clock_.Advance(minutes(5));  // past the retry delay: still nothing while the lease is not held
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(starts, 1);
}

TEST_F(SchedulerTest, StoppingRecordsTheEndsOfRunsNotYetReaped) {
  {
    Scheduler s({{"github", Cron("0 3 * * *"), seconds(600), [](const RunContext&) -> Result<int64_t> { return 5; }},
                 {"slow", Cron("0 3 * * *"), seconds(600),
                  [](const RunContext& ctx) -> Result<int64_t> {
                    while (!ctx.stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
                    return Status::Cancelled("stopped");
                  }}},
                &ledger_, Options());
    clock_.Advance(seconds(40));  // 03:00:10: the 03:00 slot is due
    ASSERT_TRUE(s.Tick().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // github has returned; no tick reaps it
  }
  // Neither is left "running": a restart re-serves the cut-short slot only.
  auto runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 2u);
  for (const RunRecord& r : runs) {
    EXPECT_TRUE(r.ended.has_value()) << r.collector;
    EXPECT_EQ(r.status, r.collector == "github" ? RunStatus::kSucceeded : RunStatus::kFailed) << r.collector;
  }
}

TEST_F(SchedulerTest, CatchesUpOnceAfterDowntime) {
  // Sluice last succeeded on Jan 1 and was down until Jan 5 noon: four daily slots and ~100 hourly ones
  // were missed. Each collector runs once, for its latest missed slot.
  for (const char* name : {"daily", "hourly"}) {
    RunRecord r{name, std::string(name) + "-old", At("2024-01-01T03:00:00Z"), At("2024-01-01T03:00:01Z"),
                At("2024-01-01T03:00:05Z"), RunStatus::kSucceeded, 1, ""};
    ASSERT_TRUE(ledger_.RecordStart(r).ok());
  }
  clock_.Set(At("2024-01-05T12:10:00Z"));
  std::atomic<int> daily{0}, hourly{0};
  Scheduler s({{"daily", Cron("0 3 * * *"), seconds(600), [&](const RunContext&) -> Result<int64_t> { ++daily; return int64_t{1}; }},
               {"hourly", Cron("@hourly"), seconds(600), [&](const RunContext&) -> Result<int64_t> { ++hourly; return int64_t{1}; }}},
              &ledger_, Options());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(s.Tick().ok());
    ASSERT_TRUE(s.WaitIdle().ok());
    clock_.Advance(seconds(30));
  }
  EXPECT_EQ(daily, 1);
  EXPECT_EQ(hourly, 1);
  EXPECT_EQ(Slots("daily"), (std::vector<std::string>{"2024-01-01T03:00:00Z", "2024-01-05T03:00:00Z"}));
  EXPECT_EQ(Slots("hourly"), (std::vector<std::string>{"2024-01-01T03:00:00Z", "2024-01-05T12:00:00Z"}));
}

TEST_F(SchedulerTest, OneRunPerCollectorAtATime) {
  Gate gate;
  std::atomic<int> calls{0};
  Scheduler s({{"slow", Cron("*/5 * * * *"), hours(1),
                [&](const RunContext&) -> Result<int64_t> {
                  ++calls;
                  gate.Wait();
                  return int64_t{1};
                }}},
              &ledger_, Options());
  clock_.Set(At("2024-01-01T03:00:00Z"));
  ASSERT_TRUE(s.Tick().ok());
  EXPECT_EQ(s.Running(), std::vector<std::string>{"slow"});
  while (calls == 0) std::this_thread::yield();  // the run's thread is inside the collector
  clock_.Advance(minutes(12));  // two more slots pass while the first run is still going
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.Tick().ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ledger_.Runs().size(), 1u);

  gate.Open();
  ASSERT_TRUE(s.WaitIdle().ok());
  ASSERT_TRUE(s.Tick().ok());  // the missed slots collapse into one run, for 03:10
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Slots("slow"), (std::vector<std::string>{"2024-01-01T03:00:00Z", "2024-01-01T03:10:00Z"}));
}

TEST_F(SchedulerTest, TimeoutRecordsFailureAndAsksTheRunToStop) {
  std::atomic<bool> saw_stop{false};
  Scheduler s({{"stuck", Cron("0 3 * * *"), seconds(60),
                [&](const RunContext& ctx) -> Result<int64_t> {
                  while (!ctx.stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                  saw_stop = true;
                  return Status::Cancelled("stopped");
                }}},
              &ledger_, Options());
  clock_.Set(At("2024-01-01T03:00:00Z"));
  ASSERT_TRUE(s.Tick().ok());
  clock_.Advance(seconds(59));
  ASSERT_TRUE(s.Tick().ok());
  EXPECT_EQ(ledger_.Runs()[0].status, RunStatus::kRunning);
  clock_.Advance(seconds(2));
  ASSERT_TRUE(s.Tick().ok());
  auto runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kFailed);
  EXPECT_EQ(runs[0].error, "timed out after 60s");
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_TRUE(saw_stop);
  EXPECT_EQ(ledger_.Runs()[0].error, "timed out after 60s") << "the late return must not overwrite the failure";
}

TEST_F(SchedulerTest, FailedRunIsRecordedAndRetriedAtTheNextTick) {
  std::atomic<int> calls{0};
  Scheduler s({{"flaky", Cron("0 3 * * *"), seconds(600),
                [&](const RunContext&) -> Result<int64_t> {
                  if (++calls == 1) return Status::Retry("GET https://api.github.com/orgs/x/repos: 502");
                  return int64_t{7};
                }}},
              &ledger_, Options());
  clock_.Set(At("2024-01-01T03:00:00Z"));
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  auto runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kFailed);
  EXPECT_EQ(runs[0].error, "Retry: GET https://api.github.com/orgs/x/repos: 502");

  clock_.Advance(seconds(30));  // inside the retry delay: nothing
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 1);

  clock_.Advance(seconds(31));  // the first tick past it retries the same slot
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 2);
  runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].status, RunStatus::kSucceeded);
  EXPECT_EQ(runs[1].rows, 7);
  EXPECT_EQ(runs[1].scheduled, runs[0].scheduled);
  EXPECT_NE(runs[1].run_id, runs[0].run_id);

  clock_.Advance(seconds(60));  // succeeded: no more runs until tomorrow
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 2);
}

TEST_F(SchedulerTest, PartialRunIsRecordedCountedAndItsSlotRetriedLikeAFailedOne) {
  std::atomic<int> calls{0};
  Scheduler s({{"gh_partial", Cron("0 3 * * *"), seconds(600),
                [&](const RunContext& ctx) -> Result<int64_t> {
                  if (++calls == 1) {
                    ctx.report->failed_parts = {"acme/gone: NotFound: HTTP 404"};
                    ctx.report->notes = R"({"failed":[{"part":"acme/gone"}]})";
                    return int64_t{5};
                  }
                  ctx.report->notes = R"({"failed":[]})";
                  return int64_t{6};
                }}},
              &ledger_, Options());
  const std::string partial = R"(collector="gh_partial",status="partial")";
  const std::string succeeded = R"(collector="gh_partial",status="succeeded")";
  const int64_t partial_before = ProcessMetrics().Get("sluice_collector_runs_total", partial);
  clock_.Set(At("2024-01-01T03:00:00Z"));
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  auto runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].status, RunStatus::kPartial);
  EXPECT_EQ(runs[0].rows, 5);
  EXPECT_EQ(runs[0].error, "acme/gone: NotFound: HTTP 404");
  EXPECT_EQ(runs[0].notes, R"({"failed":[{"part":"acme/gone"}]})");
  EXPECT_EQ(ProcessMetrics().Get("sluice_collector_runs_total", partial), partial_before + 1);

  clock_.Advance(seconds(30));  // inside the retry delay: nothing
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 1);
  clock_.Advance(seconds(31));  // then the same slot again
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 2);
  runs = ledger_.Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].status, RunStatus::kSucceeded);
  EXPECT_EQ(runs[1].scheduled, runs[0].scheduled);
  EXPECT_EQ(ProcessMetrics().Get("sluice_collector_runs_total", succeeded), 1);
  clock_.Advance(seconds(120));  // succeeded: nothing more today
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  EXPECT_EQ(calls, 2);
}

TEST_F(SchedulerTest, ACollectorThatThrowsIsAFailedRun) {
  Scheduler s({{"bad", Cron("0 3 * * *"), seconds(600),
                [&](const RunContext&) -> Result<int64_t> { throw std::runtime_error("boom"); }}},
              &ledger_, Options());
  clock_.Set(At("2024-01-01T03:00:00Z"));
  ASSERT_TRUE(s.Tick().ok());
  ASSERT_TRUE(s.WaitIdle().ok());
  ASSERT_EQ(ledger_.Runs().size(), 1u);
  EXPECT_EQ(ledger_.Runs()[0].status, RunStatus::kFailed);
  EXPECT_EQ(ledger_.Runs()[0].error, "Internal: collector threw: boom");
}

TEST_F(SchedulerTest, RunNowRunsImmediatelyButNotTwice) {
  Gate gate;
  Scheduler s({{"github", Cron("0 3 * * *"), seconds(600),
                [&](const RunContext&) -> Result<int64_t> {
                  gate.Wait();
                  return int64_t{3};
                }}},
              &ledger_, Options());
  clock_.Set(At("2024-01-01T12:00:00Z"));
  auto id = s.RunNow("github");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto again = s.RunNow("github");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(s.RunNow("nope").status().IsNotFound());
  gate.Open();
  ASSERT_TRUE(s.WaitIdle().ok());
  ASSERT_EQ(ledger_.Runs().size(), 1u);
  EXPECT_EQ(ledger_.Runs()[0].run_id, *id);
  EXPECT_EQ(Iso(ledger_.Runs()[0].scheduled), "2024-01-01T12:00:00Z");
  EXPECT_EQ(ledger_.Runs()[0].status, RunStatus::kSucceeded);
}

}  // namespace
}  // namespace sluice
