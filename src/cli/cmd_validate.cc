#include <cstdio>

#include "cli/cli.h"
#include "collect/collector_config.h"
#include "marts/mart_config.h"
#include "reports/report_runner.h"
#include "serve/dashboard_config.h"
#include "transform/transformer.h"

namespace sluice::cli {

// sluice validate -c FILE: every error with file, line and field (streams, rollups, models, collectors,
// dashboards), or a summary of what the config declares.
int Validate(const Args& args) {
  auto config = LoadConfigFromArgs(args);
  if (!config) return 1;
  // The later sections are read by their own stages; run the same readers `run` does at start.
  auto transformer = Transformer::Create(*config);
  auto collectors = ReadCollectors(config->collectors, config->file);
  auto dashboards = LoadDashboards(*config);
  auto reports = ReadReports(config->reports, config->file);
  Status report_charts;  // a report's chart: must name a chart that exists
  if (reports.ok() && dashboards.ok())
    for (const ReportConfig& r : *reports)
      if (auto sql = ResolveReportSql(r, *dashboards); !sql.ok() && report_charts.ok()) report_charts = sql.status();
  Status marts;  // checked against the rollups and models, once those parse
  if (transformer.ok()) marts = ParseMarts(*config, (*transformer)->targets()).status();
  bool ok = true;
  for (const Status* st : {&transformer.status(), &collectors.status(), &dashboards.status(), &reports.status(),
                           static_cast<const Status*>(&report_charts), static_cast<const Status*>(&marts)}) {
    if (!st->ok()) {
      std::fprintf(stderr, "%s\n", st->message().c_str());
      ok = false;
    }
  }
  if (!ok) return 1;
  std::printf("%s: ok\n", config->file.c_str());
  for (const auto& s : config->streams) {
    std::printf("  stream %s: %zu fields, event time %s, %zu source(s)\n", s.name.c_str(), s.schema.fields.size(),
                s.event_time_field().name.c_str(), s.sources.size());
    for (const auto& src : s.sources) std::printf("    source %s (%s)\n", src.name.c_str(), src.kind.c_str());
  }
  if (config->rollups.IsDefined() && config->rollups.IsMap())
    for (const auto& kv : config->rollups) std::printf("  rollup %s\n", kv.first.Scalar().c_str());
  for (const auto& c : *collectors) std::printf("  collector %s\n", c.name.c_str());
  for (const auto& r : *reports)
    std::printf("  report %s: %s on \"%s\" (%s)\n", r.name.c_str(), ReportFormatName(r.format),
                r.schedule->expression().c_str(), r.schedule->time_zone().c_str());
  for (const auto& d : *dashboards)
    std::printf("  dashboard %s: %zu chart(s), served at /dashboards/%s\n", d.name.c_str(), d.charts.size(),
                d.name.c_str());
  return 0;
}

}  // namespace sluice::cli
