#include "reports/report_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "collect/time_zone.h"
#include "core/time.h"
#include "reports/report_handoff.h"
#include "reports/xlsx_writer.h"
#include "serve/dashboard_config.h"
#include "serve/format.h"

namespace sluice {
namespace {

// `r`, its error prefixed with what was being done.
template <typename T>
Result<T> Context(Result<T> r, const std::string& what) {
  if (r.ok()) return r;
  return r.status().WithContext(what);
}

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// "20240506T060000Z": the slot in a file name (ISO-8601 basic format, no ':').
std::string SlotName(TimePoint slot) {
  std::string iso = FormatIsoMicros(Micros(std::chrono::floor<std::chrono::seconds>(slot)));  // ...T06:00:00Z
  std::string out;
  for (char c : iso)
    if (c != '-' && c != ':') out += c;
  return out;
}

const char* ContentType(ReportFormat format) {
  return format == ReportFormat::kXlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                                       : "text/csv; charset=utf-8";
}

// A local file holding the report for the command: landing's own file when landing is a folder, else a scratch
// copy removed when this goes away.
class LocalCopy {
 public:
  static Result<LocalCopy> Make(ObjectStore& landing, const std::string& key, const std::string& bytes,
                                const std::string& tmp_dir, const std::string& file_name) {
    LocalCopy copy;
    if (dynamic_cast<LocalObjectStore*>(&landing)) {
      copy.path_ = landing.Locator(key);
      return copy;
    }
    const std::string dir = tmp_dir.empty() ? std::filesystem::temp_directory_path().string() : tmp_dir;
    std::string folder = dir + "/sluice-report-XXXXXX";
    if (!::mkdtemp(folder.data())) return Status::Io("cannot create a scratch folder in " + dir);
    copy.scratch_ = folder;
    copy.path_ = folder + "/" + file_name;
    std::ofstream out(copy.path_, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return Status::Io("cannot write " + copy.path_);
    return copy;
  }
  LocalCopy() = default;
  LocalCopy(LocalCopy&& o) noexcept : path_(std::move(o.path_)), scratch_(std::move(o.scratch_)) { o.scratch_.clear(); }
  LocalCopy& operator=(LocalCopy&&) = delete;
  ~LocalCopy() {
    std::error_code ec;
    if (!scratch_.empty()) std::filesystem::remove_all(scratch_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string scratch_;
};

}  // namespace

std::string ReportRunName(const std::string& report) { return "report:" + report; }

ReportQueryFn QueryOn(std::shared_ptr<Readers> readers) {
  return [readers = std::move(readers)](const std::string& sql, const ReadLimits& limits) {
    return readers->Query(sql, limits);
  };
}

std::string ReportKey(const ReportConfig& report, TimePoint slot) {
  const int64_t seconds = ToUnixSeconds(slot);
  int32_t offset = 0;
  if (auto zone = TimeZone::Load(report.time_zone); zone.ok()) offset = (*zone)->OffsetAt(seconds);
  const std::string day = FormatIsoDate(DayOf((seconds + offset) * 1'000'000));
  return "reports/" + report.name + "/dt=" + day + "/" + report.name + "-" + SlotName(slot) + "." +
         ReportFormatName(report.format);
}

Result<ReportOutput> RunReport(const ReportConfig& report, const std::string& sql, const RunContext& ctx,
                               const ReportRunOptions& options) {
  const Clock* clock = ctx.clock ? ctx.clock : Clock::Real();
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1000),
                    std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline - clock->Now()));
  };
  ReadLimits limits;
  limits.timeout_us = std::chrono::duration_cast<std::chrono::microseconds>(left()).count();
  limits.max_rows = report.max_rows;
  ASSIGN_OR_RETURN(QueryResult rows, Context(options.query(sql, limits), "query"));
  if (rows.truncated)
    return Status::Invalid("the query returned more than max_rows (" + std::to_string(report.max_rows) +
                           ") rows; raise the report's max_rows or narrow the query");
  std::string bytes;
  if (report.format == ReportFormat::kXlsx) {
    XlsxOptions x;
    x.sheet_name = report.name.substr(0, 31);
    x.created =
        static_cast<std::time_t>(ToUnixSeconds(ctx.scheduled));  // same rows, same bytes: retries land nothing new
    x.tmp_dir = options.tmp_dir;
    ASSIGN_OR_RETURN(bytes, Context(FormatXlsx(rows, x), "xlsx"));
  } else {
    bytes = FormatCsv(rows);
  }
  if (ctx.stop.stop_requested()) return Status::Cancelled("stopped before landing");

  const std::string key = ReportKey(report, ctx.scheduled);
  const std::string ext = std::string(".") + ReportFormatName(report.format);
  const std::string stem = key.substr(0, key.size() - ext.size());
  ASSIGN_OR_RETURN(std::string landed, Context(PutVersioned(*options.landing, stem, {{ext, bytes}}), "landing"));
  ReportOutput out;
  out.key = landed + ext;
  out.locator = options.landing->Locator(out.key);
  out.rows = static_cast<int64_t>(rows.rows.size());
  spdlog::info("report {}: {} rows landed at {}", report.name, out.rows, out.locator);

  if (report.command.empty() && report.webhook.empty()) return out;
  ReportFile file;
  file.report = report.name;
  file.locator = out.locator;
  file.file_name = out.key.substr(out.key.rfind('/') + 1);
  file.content_type = ContentType(report.format);
  file.slot = FormatIsoMicros(Micros(std::chrono::floor<std::chrono::seconds>(ctx.scheduled)));
  if (!report.command.empty()) {
    ASSIGN_OR_RETURN(LocalCopy copy,
                     LocalCopy::Make(*options.landing, out.key, bytes, options.tmp_dir, file.file_name));
    file.path = copy.path();
    RETURN_IF_ERROR(RunReportCommand(report.command, file, left(), ctx.stop));
  }
  if (!report.webhook.empty())
    RETURN_IF_ERROR(
        PostReportWebhook(report.webhook, file, bytes, left(), ctx.stop, ctx.clock ? ctx.clock : Clock::Real()));
  return out;
}

ScheduledCollector MakeScheduledReport(const ReportConfig& report, std::string sql, ReportRunOptions options) {
  std::string name = ReportRunName(report.name);
  CollectFn run = [report, sql = std::move(sql),
                   options = std::move(options)](const RunContext& ctx) -> Result<int64_t> {
    ASSIGN_OR_RETURN(ReportOutput out, RunReport(report, sql, ctx, options));
    return out.rows;
  };
  return ScheduledCollector{std::move(name), *report.schedule, report.timeout, std::move(run)};
}

Result<std::vector<ScheduledCollector>> ScheduleReports(const Config& config, const OpenReadersFn& open_readers,
                                                        std::shared_ptr<ObjectStore> landing) {
  ASSIGN_OR_RETURN(std::vector<ReportConfig> reports, ReadReports(config.reports, config.file));
  std::vector<ScheduledCollector> out;
  if (reports.empty()) return out;
  std::vector<Dashboard> dashboards;
  if (std::any_of(reports.begin(), reports.end(), [](const ReportConfig& r) { return !r.chart.empty(); })) {
    ASSIGN_OR_RETURN(dashboards, LoadDashboards(config));
  }
  // Every chart reference is resolved before any connection is opened: a config error costs nothing.
  std::vector<std::string> sqls;
  for (const ReportConfig& r : reports) {
    ASSIGN_OR_RETURN(std::string sql, ResolveReportSql(r, dashboards));
    sqls.push_back(std::move(sql));
  }
  ReportRunOptions options;
  ASSIGN_OR_RETURN(std::shared_ptr<Readers> readers, Context(open_readers(), "reports need reader connections"));
  options.query = QueryOn(std::move(readers));
  options.landing = std::move(landing);
  for (size_t i = 0; i < reports.size(); ++i) {
    const ReportConfig& r = reports[i];
    out.push_back(MakeScheduledReport(r, std::move(sqls[i]), options));
    spdlog::info("report {}: {} on schedule \"{}\" ({})", r.name, ReportFormatName(r.format), r.schedule->expression(),
                 r.schedule->time_zone());
  }
  return out;
}

}  // namespace sluice
