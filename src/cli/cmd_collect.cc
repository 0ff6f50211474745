// sluice collect -c FILE NAME: run one configured collector now, recording the run in `_sluice_runs`;
// with --dry-run, run it writing nothing and print what it would load (collect_dry_run.cc).
// sluice cron "EXPR" [--from T] [-n N] [--tz Z]: print the next fire times, to check an expression.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "cli/cli.h"
#include "collect/collector_runner.h"
#include "collect/cron.h"
#include "collect/warehouse_etag_cache.h"
#include "collect/warehouse_run_ledger.h"
#include "core/time.h"

namespace sluice::cli {
namespace {

int64_t Micros(TimePoint t) { return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count(); }

}  // namespace

int Collect(const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: sluice collect -c FILE NAME [--dry-run [--limit N]]\n");
    return 2;
  }
  const std::string name = args.positional[0];
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto collectors = ReadCollectors(config->collectors, config->file);
  if (!collectors.ok()) {
    std::fprintf(stderr, "%s\n", collectors.status().message().c_str());
    return 1;
  }
  const CollectorConfig* found = nullptr;
  std::string names;
  for (const CollectorConfig& c : *collectors) {
    if (c.name == name) found = &c;
    names += (names.empty() ? "" : ", ") + c.name;
  }
  if (!found) {
    std::fprintf(stderr, "no collector named '%s' in %s (configured: %s)\n", name.c_str(), config->file.c_str(),
                 names.empty() ? "none" : names.c_str());
    return 1;
  }
  if (args.Has("dry-run")) {
    const std::string limit = args.Get("limit", "5");
    if (limit.empty() || limit.find_first_not_of("0123456789") != std::string::npos) {
      std::fprintf(stderr, "--limit: expected a number of rows, not '%s'\n", limit.c_str());
      return 2;
    }
    return CollectDryRun(*found, std::stoul(limit));
  }
  // The loader of a running `sluice run` owns the warehouse file; its scheduler runs collectors there.
  auto warehouse = OpenWarehouse(*config);
  if (!warehouse.ok()) {
    spdlog::error("{} (is `sluice run` holding the warehouse? its scheduler runs the collectors)",
                  warehouse.status().message());
    return 1;
  }
  return RunCollectorNow(*found, OpenObjectStore(*config), **warehouse);
}

int RunCollectorNow(const CollectorConfig& collector, std::shared_ptr<ObjectStore> landing, Warehouse& warehouse,
                    Clock* clock, bool verbose) {
  const std::string& name = collector.name;
  // One access for the ledger, the loader and the ETag cache, so their statements are serialised even when a
  // timed-out run is still finishing while its failure is recorded.
  sluice::WarehouseAccess access = DirectWarehouseAccess(warehouse);
  WarehouseRunLedger ledger(access);
  // ETags stored by earlier runs (earlier processes): a daily cron `sluice collect` sends If-None-Match.
  CollectorRunOptions options{"", access, MakePersistentEtagCache(access), std::move(landing)};
  // Run through the Scheduler so a manual run is recorded exactly like a scheduled one.
  CollectorRunSummary summary;
  ScheduledCollector sc = MakeScheduledCollector(collector, options);
  sc.run = [&](const RunContext& ctx) -> Result<int64_t> {
    auto s = RunCollector(collector, ctx, options);
    if (!s.ok()) return s.status();
    summary = std::move(*s);
    return summary.rows;
  };
  std::vector<ScheduledCollector> one;
  one.push_back(std::move(sc));
  SchedulerOptions scheduler_options;
  scheduler_options.clock = clock;
  Scheduler scheduler(std::move(one), &ledger, scheduler_options);
  auto run_id = scheduler.RunNow(name);
  if (!run_id.ok()) {
    spdlog::error("{}", run_id.status().message());
    return 1;
  }
  if (Status st = scheduler.WaitIdle(); !st.ok()) spdlog::error("{}", st.message());
  auto last = ledger.LastRun(name);
  if (!last.ok() || !last->has_value()) {
    spdlog::error("run {} is not in _sluice_runs", *run_id);
    return 1;
  }
  const RunRecord& r = **last;
  if (r.status == RunStatus::kPartial) {
    // Exit 1 like a failure, so a cron job notices; what could be collected is loaded.
    std::printf("collector %s: run %s partial, %lld rows; failed: %s\n", name.c_str(), r.run_id.c_str(),
                static_cast<long long>(r.rows), r.error.c_str());
    if (!summary.evidence_file.empty()) std::printf("  evidence %s\n", summary.evidence_file.c_str());
    return 1;
  }
  if (r.status != RunStatus::kSucceeded) {
    std::printf("collector %s: run %s %s: %s\n", name.c_str(), r.run_id.c_str(), RunStatusName(r.status),
                r.error.c_str());
    return 1;
  }
  std::printf("collector %s: run %s succeeded, %lld rows\n", name.c_str(), r.run_id.c_str(),
              static_cast<long long>(r.rows));
  if (!verbose) return 0;
  for (const auto& [table, rows] : summary.rows_per_table)
    std::printf("  %-28s %lld rows\n", table.c_str(), static_cast<long long>(rows));
  for (const std::string& note : summary.notes) std::printf("  note: %s\n", note.c_str());
  if (!summary.landed_file.empty()) std::printf("  landed %s\n", summary.landed_file.c_str());
  return 0;
}

int Cron(const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: sluice cron \"EXPR\" [--from 2024-09-01T00:00:00Z] [-n 5] [--tz Europe/Berlin]\n");
    return 2;
  }
  const std::string tz = args.Get("tz", "UTC");
  auto schedule = CronSchedule::Parse(args.positional[0], tz);
  if (!schedule.ok()) {
    std::fprintf(stderr, "%s\n", schedule.status().message().c_str());
    return 1;
  }
  auto zone = TimeZone::Load(tz);
  TimePoint t = Clock::Real()->Now();
  if (args.Has("from")) {
    auto micros = ParseIsoMicros(args.Get("from"));
    if (!micros) {
      std::fprintf(stderr, "--from: not an ISO-8601 time: '%s' (e.g. 2024-09-01T00:00:00Z)\n", args.Get("from").c_str());
      return 2;
    }
    t = TimePoint(std::chrono::microseconds(*micros));
  }
  int n = 5;
  try {
    n = std::stoi(args.Get("count", "5"));  // ParseArgs maps -n to count
  } catch (...) {
    std::fprintf(stderr, "-n: not a number\n");
    return 2;
  }
  for (int i = 0; i < n; ++i) {
    t = schedule->NextAfter(t);
    const int64_t us = Micros(t);
    if (tz == "UTC" || !zone.ok()) {
      std::printf("%s\n", FormatIsoMicros(us).c_str());
    } else {
      const int32_t off = (*zone)->OffsetAt(us / 1'000'000);
      std::string local = FormatSqlTimestamp(us + off * 1'000'000LL);
      char sign = off < 0 ? '-' : '+';
      int a = std::abs(off);
      std::printf("%s %c%02d:%02d %s  (%s)\n", local.c_str(), sign, a / 3600, a % 3600 / 60, tz.c_str(),
                  FormatIsoMicros(us).c_str());
    }
  }
  return 0;
}

}  // namespace sluice::cli
