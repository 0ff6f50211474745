// sluice: one binary for the whole pipeline. Each subcommand lives in its own cmd_*.cc.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstring>

#include "cli/cli.h"

namespace {

constexpr const char* kUsage = R"(sluice: an analytics pipeline in one binary

usage: sluice COMMAND [options]

  demo                      generate sample events, ingest them into data/demo, print a summary, then
                            serve the dashboards until Ctrl-C [--listen HOST:PORT] [--no-serve] [--events N]
  run      -c FILE          ingest from every source and serve the API until SIGINT/SIGTERM
                            [--listen HOST:PORT] [--worker NAME: one of several sharing the pipeline]
  ingest   -c FILE --once   read every source to its end, load it, exit
  query    -c FILE "SQL"    run SQL on the warehouse [--format table|csv|json]
  status   -c FILE          per source: checkpoints, lag, batches, rows, dead letters; workers and leases
  transform -c FILE         recompute rollups and models for newly loaded hours [--full-refresh] [--from T --to T]
  backfill -c FILE --stream S   reload landed batches into the warehouse (idempotent) [--from DAY --to DAY]
  explain  rollup NAME -c FILE   print the SQL generated for a rollup
  collect  -c FILE NAME     run one configured collector now; the run is recorded in _sluice_runs
                            [--dry-run: write nothing, print the rows it would load, pages, rate limit]
  report   -c FILE NAME     run one configured report now and print its file's path (under landing reports/)
  mart     -c FILE NAME     refresh one PostgreSQL mart now: the hours changed since its last load [--full]
  cron     "EXPR"           print the next fire times [--from T] [-n N] [--tz ZONE]
  validate -c FILE          check a config; reports every error with file, line and field
  gen      --events N --out FILE   write Teads-like tracking events as NDJSON [--seed S] [--bad N]

Logs go to stderr; SPDLOG_LEVEL=debug for more.
)";

}  // namespace

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("sluice");
  spdlog::set_default_logger(logger);
  spdlog::cfg::load_env_levels();
  if (argc < 2 || !std::strcmp(argv[1], "help") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  using namespace sluice::cli;
  Args args = ParseArgs(argc, argv, 2, {"once", "quiet", "full-refresh", "no-serve", "full", "dry-run"});
  if (cmd == "validate") return Validate(args);
  if (cmd == "ingest") return Ingest(args, true);
  if (cmd == "run") return Ingest(args, false);
  if (cmd == "query") return Query(args);
  if (cmd == "status") return StatusCommand(args);
  if (cmd == "gen") return Gen(args);
  if (cmd == "demo") return Demo(args);
  if (cmd == "collect") return Collect(args);
  if (cmd == "report") return Report(args);
  if (cmd == "cron") return Cron(args);
  if (cmd == "transform") return Transform(args);
  if (cmd == "explain") return Explain(args);
  if (cmd == "backfill") return Backfill(args);
  if (cmd == "mart") return Mart(args);
  std::fprintf(stderr, "unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
