// The `sluice` command line: one function per subcommand, sharing argument parsing and the way to reach the
// warehouse (open the DuckDB file, or ask the running `sluice run` over HTTP when it holds the file).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collect/collector_config.h"
#include "collect/warehouse_run_ledger.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "landing/object_store.h"
#include "warehouse/query_result.h"
#include "warehouse/warehouse.h"

namespace sluice::cli {

// Parsed arguments: flags (--name value, --name=value, -c value; bare --flag is "true") and positionals.
struct Args {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
  bool Has(const std::string& f) const { return flags.count(f) > 0; }
  std::string Get(const std::string& f, const std::string& def = "") const {
    auto it = flags.find(f);
    return it == flags.end() ? def : it->second;
  }
};
// `boolean_flags` take no value.
Args ParseArgs(int argc, char** argv, int first, const std::vector<std::string>& boolean_flags);

// Loads -c/--config; prints every error and returns nullopt when it is invalid.
std::optional<Config> LoadConfigFromArgs(const Args& args);

// A warehouse for a one-shot command: the local file if free, else nullptr with `remote_url` set to the
// running sluice's API.
struct WarehouseAccess {
  std::unique_ptr<Warehouse> local;
  std::string remote_url;
};
Result<WarehouseAccess> OpenForCommand(const Config& config);
// Runs a query locally or through the running sluice.
Result<QueryResult> RunQuery(WarehouseAccess& access, const Config& config, const std::string& sql);

int Validate(const Args& args);
int Ingest(const Args& args, bool once);
int Query(const Args& args);
int StatusCommand(const Args& args);
// The columns of the terminal stdout writes to (COLUMNS when set), 0 when stdout is not a terminal.
size_t TerminalWidth();
// The Workers and Leases sections of `sluice status` (status_workers.cc), read from ZooKeeper.
Status PrintWorkers(const Config& config);
int Gen(const Args& args);
int Demo(const Args& args);
int Collect(const Args& args);
// sluice report -c FILE NAME: runs one report now and prints its file (cmd_report.cc).
int Report(const Args& args);
int Cron(const Args& args);

// Runs `collector` once now (as `clock` tells the time: the demo collects past days) on `warehouse`, records
// it in `_sluice_runs` and prints its outcome, with rows per table when `verbose`; 0 on success (`sluice
// collect`, the demo).
int RunCollectorNow(const CollectorConfig& collector, std::shared_ptr<ObjectStore> landing, Warehouse& warehouse,
                    Clock* clock = Clock::Real(), bool verbose = true);
// Runs `collector` once writing nothing (no landing, warehouse, run ledger or HTTP cache) and prints what it
// would load, the first `limit` rows per table (`sluice collect --dry-run`, collect_dry_run.cc); 0 when no
// part failed.
int CollectDryRun(const CollectorConfig& collector, size_t limit);
int Transform(const Args& args);
int Explain(const Args& args);
int Backfill(const Args& args);
int Mart(const Args& args);

}  // namespace sluice::cli
