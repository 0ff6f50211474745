// sluice report -c FILE NAME: run one configured report now, print the landed file's path.
// The run goes through the Scheduler like a scheduled one, so it is recorded in `_sluice_runs` as
// "report:<NAME>" and its file lands under landing `reports/<NAME>/dt=DAY/`. While `sluice run` holds the
// DuckDB file, the query goes through its API instead (column types then come back as numbers or text only)
// and the run cannot be recorded in its ledger.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/cli.h"
#include "collect/scheduler.h"
#include "reports/report_runner.h"
#include "serve/dashboard_config.h"

namespace sluice::cli {

int Report(const Args& args) {
  if (args.positional.size() != 1) {
    std::fprintf(stderr, "usage: sluice report -c FILE NAME\n");
    return 2;
  }
  const std::string name = args.positional[0];
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto reports = ReadReports(config->reports, config->file);
  if (!reports.ok()) {
    std::fprintf(stderr, "%s\n", reports.status().message().c_str());
    return 1;
  }
  const ReportConfig* found = nullptr;
  std::string names;
  for (const ReportConfig& r : *reports) {
    if (r.name == name) found = &r;
    names += (names.empty() ? "" : ", ") + r.name;
  }
  if (!found) {
    std::fprintf(stderr, "no report named '%s' in %s (configured: %s)\n", name.c_str(), config->file.c_str(),
                 names.empty() ? "none" : names.c_str());
    return 1;
  }
  std::vector<Dashboard> dashboards;
  if (!found->chart.empty()) {
    auto loaded = LoadDashboards(*config);
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 1;
    }
    dashboards = std::move(*loaded);
  }
  auto sql = ResolveReportSql(*found, dashboards);
  if (!sql.ok()) {
    std::fprintf(stderr, "%s\n", sql.status().message().c_str());
    return 1;
  }

  auto access = OpenForCommand(*config);
  if (!access.ok()) {
    spdlog::error("{}", access.status().message());
    return 1;
  }
  ReportRunOptions options;
  options.landing = OpenObjectStore(*config);
  std::unique_ptr<RunLedger> ledger;
  if (access->local) {
    auto readers = access->local->OpenReaders(1);
    if (!readers.ok()) {
      spdlog::error("{}", readers.status().message());
      return 1;
    }
    options.query = QueryOn(std::move(*readers));
    ledger = std::make_unique<WarehouseRunLedger>(DirectWarehouseAccess(*access->local));
  } else {
    spdlog::warn("sluice run holds the warehouse: querying through {}; this run is not recorded in _sluice_runs",
                 access->remote_url);
    options.query = [&](const std::string& q, const ReadLimits&) { return RunQuery(*access, *config, q); };
    ledger = std::make_unique<MemoryRunLedger>();
  }

  // Through the Scheduler, so a manual run is recorded exactly like a scheduled one.
  ReportOutput output;
  ScheduledCollector sc = MakeScheduledReport(*found, *sql, options);
  sc.run = [&](const RunContext& ctx) -> Result<int64_t> {
    ASSIGN_OR_RETURN(output, RunReport(*found, *sql, ctx, options));
    return output.rows;
  };
  const std::string run_name = sc.name;
  std::vector<ScheduledCollector> one;
  one.push_back(std::move(sc));
  Scheduler scheduler(std::move(one), ledger.get());
  auto run_id = scheduler.RunNow(run_name);
  if (!run_id.ok()) {
    spdlog::error("{}", run_id.status().message());
    return 1;
  }
  if (Status st = scheduler.WaitIdle(); !st.ok()) spdlog::error("{}", st.message());
  auto last = ledger->LastRun(run_name);
  if (!last.ok() || !last->has_value()) {
    spdlog::error("run {} is not in the run ledger", *run_id);
    return 1;
  }
  const RunRecord& r = **last;
  if (r.status != RunStatus::kSucceeded) {
    std::fprintf(stderr, "report %s: run %s %s: %s\n", name.c_str(), r.run_id.c_str(), RunStatusName(r.status),
                 r.error.c_str());
    return 1;
  }
  // Only the path on stdout, so `file=$(sluice report -c sluice.yaml weekly)` works; the rest is logged.
  spdlog::info("report {}: run {} succeeded, {} rows", name, r.run_id, r.rows);
  std::printf("%s\n", output.locator.c_str());
  return 0;
}

}  // namespace sluice::cli
