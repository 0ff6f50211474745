#include <sys/stat.h>

#include <cstdio>

#include "cli/cli.h"
#include "serve/format.h"

namespace sluice::cli {

// sluice status -c FILE: per source, its checkpoints, lag where known, batches, rows and dead letters; per
// collector its latest run (partial and failed ones stand out) and count of runs not succeeded; with
// several workers, which worker reads which partitions and holds which leases.
int StatusCommand(const Args& args) {
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto access = OpenForCommand(*config);
  if (!access.ok()) {
    std::fprintf(stderr, "%s\n", access.status().message().c_str());
    return 1;
  }
  if (access->local) {
    if (Status st = access->local->Prepare(*config); !st.ok()) {
      std::fprintf(stderr, "%s\n", st.message().c_str());
      return 1;
    }
  }
  const SqlDialect::StatusQueries queries = DialectFor(config->warehouse_kind).StatusSql();
  auto totals = RunQuery(*access, *config, queries.sources);
  auto cps = RunQuery(*access, *config, queries.checkpoints);
  if (!totals.ok() || !cps.ok()) {
    std::fprintf(stderr, "%s\n", (!totals.ok() ? totals.status() : cps.status()).message().c_str());
    return 1;
  }
  std::printf("Sources\n%s\n", FormatTable(*totals).c_str());
  // Lag is known offline for plain files: bytes past the checkpoint. Kafka lag is on /metrics while running.
  QueryResult lag = *cps;
  lag.columns.push_back("lag");
  lag.types.push_back("BIGINT");
  for (auto& row : lag.rows) {
    struct stat st;
    std::string part = row[1].value_or("");
    bool plain = part.size() > 0 && part[0] == '/' && part.find(".gz") == std::string::npos &&
                 part.find(".zst") == std::string::npos;
    if (plain && ::stat(part.c_str(), &st) == 0)
      row.push_back(std::to_string(st.st_size - std::stoll(row[2].value_or("0"))));
    else
      row.push_back(std::nullopt);
  }
  std::printf("Checkpoints\n%s", FormatTable(lag).c_str());
  // Event time: hours behind the watermark (max event time minus allowed_lateness) are final.
  auto hours = RunQuery(*access, *config, queries.event_time);
  if (hours.ok()) std::printf("\nEvent time\n%s", FormatTable(*hours).c_str());
  // Collectors: each one's latest run (succeeded, partial or failed) and how many runs did not succeed.
  auto runs = RunQuery(*access, *config, queries.collectors);
  if (runs.ok() && !runs->rows.empty()) std::printf("\nCollectors\n%s", FormatTable(*runs).c_str());
  if (!config->zookeeper.empty()) {
    if (Status st = PrintWorkers(*config); !st.ok()) {
      std::fprintf(stderr, "workers: %s\n", st.message().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace sluice::cli
