#include "collect/warehouse_run_ledger.h"

#include <chrono>
#include <memory>
#include <mutex>

namespace sluice {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
TimePoint FromMicros(int64_t us) { return TimePoint(std::chrono::microseconds(us)); }

// Timestamps cross the SQL boundary as epoch microseconds both ways, so nothing depends on text formats.
std::string Ts(TimePoint t) { return "make_timestamp(" + std::to_string(Micros(t)) + ")"; }

constexpr const char* kSelect =
    "SELECT collector, run_id, epoch_us(scheduled_at), epoch_us(started_at), epoch_us(ended_at), status, "
    "\"rows\", error FROM _sluice_runs";

RunStatus ParseStatus(const std::string& s) {
  if (s == "succeeded") return RunStatus::kSucceeded;
  if (s == "failed") return RunStatus::kFailed;
  return RunStatus::kRunning;
}

std::vector<RunRecord> ToRecords(const QueryResult& q) {
  std::vector<RunRecord> out;
  for (const auto& row : q.rows) {
    RunRecord r;
    r.collector = row[0].value_or("");
    r.run_id = row[1].value_or("");
    r.scheduled = FromMicros(std::stoll(row[2].value_or("0")));
    r.started = FromMicros(std::stoll(row[3].value_or("0")));
    if (row[4]) r.ended = FromMicros(std::stoll(*row[4]));
    r.status = ParseStatus(row[5].value_or(""));
    r.rows = row[6] ? std::stoll(*row[6]) : 0;
    r.error = row[7].value_or("");
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

WarehouseAccess DirectWarehouseAccess(Warehouse& w) {
  auto mu = std::make_shared<std::mutex>();
  return [&w, mu](const std::function<Status(Warehouse&)>& fn) {
    std::lock_guard<std::mutex> lock(*mu);
    return fn(w);
  };
}

Status WarehouseRunLedger::Init() {
  return access_([](Warehouse& w) { return w.Execute(kRunsTableSql); }).WithContext("creating _sluice_runs");
}

Result<std::vector<RunRecord>> WarehouseRunLedger::Runs(const std::string& collector) {
  std::vector<RunRecord> out;
  RETURN_IF_ERROR(access_([&](Warehouse& w) -> Status {
    std::string sql = kSelect;
    if (!collector.empty()) sql += " WHERE collector = " + Quote(collector);
    sql += " ORDER BY started_at, run_id";
    auto q = w.Query(sql);
    if (!q.ok()) return q.status();
    out = ToRecords(*q);
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<RunRecord>> WarehouseRunLedger::LastRun(const std::string& collector) {
  std::optional<RunRecord> out;
  RETURN_IF_ERROR(access_([&](Warehouse& w) -> Status {
    auto q = w.Query(std::string(kSelect) + " WHERE collector = " + Quote(collector) +
                     " ORDER BY started_at DESC, run_id DESC LIMIT 1");
    if (!q.ok()) return q.status();
    std::vector<RunRecord> runs = ToRecords(*q);
    if (!runs.empty()) out = std::move(runs[0]);
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<TimePoint>> WarehouseRunLedger::LastSucceededSlot(const std::string& collector) {
  std::optional<TimePoint> out;
  RETURN_IF_ERROR(access_([&](Warehouse& w) -> Status {
    auto q = w.Query("SELECT epoch_us(max(scheduled_at)) FROM _sluice_runs WHERE status = 'succeeded' AND collector = " +
                     Quote(collector));
    if (!q.ok()) return q.status();
    std::string v = q->Scalar();
    if (!v.empty()) out = FromMicros(std::stoll(v));
    return Status::Ok();
  }));
  return out;
}

Status WarehouseRunLedger::RecordStart(const RunRecord& run) {
  return access_([&](Warehouse& w) {
    return w.Execute("INSERT INTO _sluice_runs (run_id, collector, scheduled_at, started_at, status, \"rows\") VALUES (" +
                     Quote(run.run_id) + ", " + Quote(run.collector) + ", " + Ts(run.scheduled) + ", " +
                     Ts(run.started) + ", " + Quote(RunStatusName(run.status)) + ", 0)");
  }).WithContext("recording the start of run " + run.run_id);
}

Status WarehouseRunLedger::RecordEnd(const RunRecord& run) {
  const std::string ended = run.ended ? Ts(*run.ended) : "NULL";
  const std::string error = run.error.empty() ? "NULL" : Quote(run.error);
  return access_([&](Warehouse& w) {
    return w.Execute("UPDATE _sluice_runs SET ended_at = " + ended + ", status = " + Quote(RunStatusName(run.status)) +
                     ", \"rows\" = " + std::to_string(run.rows) + ", error = " + error +
                     " WHERE run_id = " + Quote(run.run_id));
  }).WithContext("recording the end of run " + run.run_id);
}

}  // namespace sluice
