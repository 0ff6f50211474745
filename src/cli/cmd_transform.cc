// sluice transform: bring rollups and models up to date with raw (incremental by event hour).
// sluice explain rollup NAME: print the SQL sluice generates for a rollup.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/cli.h"
#include "core/time.h"
#include "transform/rollup_sql.h"
#include "transform/transformer.h"

namespace sluice::cli {

namespace {

bool ParseTimeFlag(const Args& args, const std::string& flag, std::optional<int64_t>& out) {
  if (!args.Has(flag)) return true;
  out = ParseIsoMicros(args.Get(flag));
  if (!out) std::fprintf(stderr, "--%s: not a time: '%s' (e.g. 2024-05-01 or 2024-05-01T10:00)\n", flag.c_str(),
                         args.Get(flag).c_str());
  return out.has_value();
}

}  // namespace

// sluice transform -c FILE [--full-refresh] [--from T --to T]
int Transform(const Args& args) {
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto transformer = Transformer::Create(*config);
  if (!transformer.ok()) {
    std::fprintf(stderr, "%s\n", transformer.status().message().c_str());
    return 1;
  }
  TransformOptions options;
  options.full_refresh = args.Has("full-refresh");
  if (!ParseTimeFlag(args, "from", options.from_us) || !ParseTimeFlag(args, "to", options.to_us)) return 2;
  if (options.from_us.has_value() != options.to_us.has_value()) {
    std::fprintf(stderr, "--from and --to go together\n");
    return 2;
  }
  auto access = OpenForCommand(*config);
  if (!access.ok()) {
    spdlog::error("{}", access.status().message());
    return 1;
  }
  if (!access->local) {
    // The running process transforms after every load; a one-off refresh needs the file.
    std::fprintf(stderr, "the warehouse is held by a running sluice (%s), which transforms after each load; "
                 "stop it to run --full-refresh or --from/--to\n", access->remote_url.c_str());
    return options.full_refresh || options.from_us ? 1 : 0;
  }
  Warehouse& w = *access->local;
  if (Status st = w.Prepare(*config); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  auto report = (*transformer)->Run(w, options);
  if (!report.ok()) {
    spdlog::error("{}", report.status().message());
    return 1;
  }
  for (const auto& line : report->lines) std::printf("%s\n", line.c_str());
  std::printf("transformed up to batch %lld: %d table(s) changed, %lld hour(s) recomputed\n",
              static_cast<long long>(report->to_seq), report->tables_changed,
              static_cast<long long>(report->hours_recomputed));
  return 0;
}

// sluice explain rollup NAME -c FILE
int Explain(const Args& args) {
  if (args.positional.size() != 2 || args.positional[0] != "rollup") {
    std::fprintf(stderr, "usage: sluice explain rollup NAME -c FILE\n");
    return 2;
  }
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  auto transformer = Transformer::Create(*config);
  if (!transformer.ok()) {
    std::fprintf(stderr, "%s\n", transformer.status().message().c_str());
    return 1;
  }
  const RollupConfig* rollup = (*transformer)->FindRollup(args.positional[1]);
  if (!rollup) {
    std::fprintf(stderr, "no rollup named '%s' in %s\n", args.positional[1].c_str(), config->file.c_str());
    return 1;
  }
  // The incremental statement is shown for the current hour, as an example of a touched hour.
  std::printf("%s", ExplainRollup(DialectFor(config->warehouse_kind), *rollup, {HourOf(NowMicros())}).c_str());
  return 0;
}

}  // namespace sluice::cli
