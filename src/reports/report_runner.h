// The report runner: one run of a scheduled report. It runs the report's SQL on a reader connection (never the
// loader's: DESIGN.md semantics 7), renders the rows as CSV (RFC 4180) or XLSX, lands the file under landing
// `reports/<NAME>/dt=DAY/<NAME>-<SLOT>.<csv|xlsx>` with put-if-absent (so it appears whole or not at all, and
// is never replaced), then hands it on to the report's command and webhook. Any step failing fails the run
// with its reason, which the Scheduler records in `_sluice_runs`.
//
// Reports run through the collectors' Scheduler under the name "report:<NAME>", so time zones, catch-up
// (one run for the latest missed slot), retries of a failed slot, the run ledger and, with several workers,
// leases (one worker per report) are the scheduler's. DAY is the slot's date in the report's time zone;
// SLOT is the slot's instant in UTC (20240506T060000Z). A retry of a slot whose rows changed since its first
// attempt lands next to it as <NAME>-<SLOT>~2.<ext> (PutVersioned); with unchanged rows it lands nothing new.
// Thread-safety: RunReport may run on several threads at once if the readers and the object store allow it
// (both do).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collect/scheduler.h"
#include "core/config.h"
#include "landing/object_store.h"
#include "reports/report_config.h"
#include "warehouse/reader.h"

namespace sluice {

// Runs a report's SQL within limits: a reader connection's Query, or (`sluice report` while `sluice run`
// holds the DuckDB file) the running process's query API.
using ReportQueryFn = std::function<Result<QueryResult>(const std::string& sql, const ReadLimits& limits)>;

// ReportQueryFn over reader connections.
ReportQueryFn QueryOn(std::shared_ptr<Readers> readers);

struct ReportRunOptions {
  ReportQueryFn query;                   // where the SQL runs
  std::shared_ptr<ObjectStore> landing;  // where the file lands
  std::string tmp_dir;                   // scratch files (xlsx, a local copy for S3 landing); empty: system's
};

struct ReportOutput {
  std::string key;      // the landing key written
  std::string locator;  // how it is named outside sluice: its path, or s3://bucket/key
  int64_t rows = 0;
};

// "report:<name>": the report's name in the scheduler and in `_sluice_runs`.
std::string ReportRunName(const std::string& report);

// The landing key of `report`'s file for `slot`, without a version: "reports/NAME/dt=DAY/NAME-SLOT.EXT".
std::string ReportKey(const ReportConfig& report, TimePoint slot);

// One run of `report` for `ctx.scheduled`, running `sql` (ResolveReportSql's). Invalid when the query fails
// or returns more than report.max_rows rows; the handing-on's status when the command or webhook fails.
Result<ReportOutput> RunReport(const ReportConfig& report, const std::string& sql, const RunContext& ctx,
                               const ReportRunOptions& options);

// `report` as a scheduler entry named ReportRunName(report.name); its runs count the report's rows.
ScheduledCollector MakeScheduledReport(const ReportConfig& report, std::string sql, ReportRunOptions options);

// Opens reader connections when there are reports to run.
using OpenReadersFn = std::function<Result<std::shared_ptr<Readers>>()>;

// Every report of `config` as a scheduler entry (none when the config has no reports; `open_readers` is then
// not called). Reads the dashboards when a report names a chart. Invalid for a config error, NotFound for a
// chart that does not exist.
Result<std::vector<ScheduledCollector>> ScheduleReports(const Config& config, const OpenReadersFn& open_readers,
                                                        std::shared_ptr<ObjectStore> landing);

}  // namespace sluice
