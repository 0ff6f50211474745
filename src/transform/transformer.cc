#include "transform/transformer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>

#include "core/time.h"
#include "transform/rollup_sql.h"

namespace sluice {

namespace {

const char* const kCursorSql = R"sql(
CREATE TABLE IF NOT EXISTS _sluice_transform_cursor (
  target VARCHAR PRIMARY KEY,
  last_seq BIGINT NOT NULL,     -- batches with seq <= last_seq are absorbed
  definition VARCHAR,           -- what the table was built from; a change forces a rebuild
  updated_at TIMESTAMP
))sql";

// A --from/--to range can name years; beyond this many hours it is surely a typo.
constexpr int64_t kMaxRangeHours = 24 * 366 * 5;

std::string StreamList(const std::set<std::string>& streams) {
  std::string out;
  for (const auto& s : streams) out += (out.empty() ? "" : ", ") + QuoteLiteral(s);
  return out.empty() ? "NULL" : out;
}

Result<std::set<int64_t>> HoursOf(Warehouse& w, const std::set<std::string>& streams, int64_t after_seq,
                                  int64_t max_seq) {
  ASSIGN_OR_RETURN(auto r, w.Query("SELECT DISTINCT epoch_us(h) FROM (SELECT unnest(event_hours) AS h FROM "
                                   "_sluice_batches WHERE seq > " + std::to_string(after_seq) + " AND seq <= " +
                                   std::to_string(max_seq) + " AND stream IN (" + StreamList(streams) + "))"));
  std::set<int64_t> hours;
  for (const auto& row : r.rows)
    if (row[0]) hours.insert(std::stoll(*row[0]));
  return hours;
}

std::string WatermarkViewsSql(const Config& config) {
  if (config.streams.empty()) return "";
  std::string lateness, hours;
  for (const auto& s : config.streams) {
    lateness += std::string(lateness.empty() ? "" : ", ") + "(" + QuoteLiteral(s.name) + ", to_microseconds(" +
                std::to_string(s.allowed_lateness_us) + "))";
    hours += std::string(hours.empty() ? "" : " UNION ALL ") + "SELECT " + QuoteLiteral(s.name) +
             " AS stream, date_trunc('hour', " + QuoteIdent(s.event_time_field().name) +
             ")::TIMESTAMP AS hour, count(*) AS rows FROM " + QuoteIdent(s.raw_table()) + " GROUP BY ALL";
  }
  return "CREATE OR REPLACE VIEW _sluice_watermarks AS WITH lateness(stream, allowed_lateness) AS (VALUES " +
         lateness +
         ") SELECT l.stream, b.max_event_time, b.max_event_time - l.allowed_lateness AS watermark, "
         "coalesce(b.late_rows, 0) AS late_rows FROM lateness l LEFT JOIN (SELECT stream, max(max_event_time) AS "
         "max_event_time, sum(late_rows) AS late_rows FROM _sluice_batches GROUP BY stream) b USING (stream);\n"
         "CREATE OR REPLACE VIEW _sluice_hours AS WITH h AS (" +
         hours +
         ") SELECT h.stream, h.hour, h.rows, coalesce(h.hour + INTERVAL 1 HOUR <= w.watermark, false) AS final "
         "FROM h JOIN _sluice_watermarks w USING (stream)";
}

}  // namespace

Result<std::unique_ptr<Transformer>> Transformer::Create(const Config& config) {
  std::unique_ptr<Transformer> t(new Transformer(config));
  ASSIGN_OR_RETURN(t->rollups_, ParseRollups(config));
  ASSIGN_OR_RETURN(t->models_, LoadModels(config.models_dir));
  ASSIGN_OR_RETURN(t->order_, OrderTargets(config, t->rollups_, t->models_));
  return t;
}

const RollupConfig* Transformer::FindRollup(const std::string& name) const {
  for (const auto& r : rollups_)
    if (r.name == name) return &r;
  return nullptr;
}

Status Transformer::Prepare(Warehouse& w) {
  RETURN_IF_ERROR(w.Execute(kCursorSql).WithContext("creating the transform cursor"));
  std::string views = WatermarkViewsSql(config_);
  if (!views.empty()) RETURN_IF_ERROR(w.Execute(views).WithContext("creating the watermark views"));
  prepared_ = true;
  return Status::Ok();
}

std::string Transformer::Definition(const TransformTarget& t) const {
  if (t.rollup) return RollupFullBuildSql(*t.rollup);
  std::string def = "time_column=" + t.model->time_column + "\n" + t.model->sql;
  // A model reading a raw table may use `*`: a field added to the stream changes its output.
  for (const auto& ref : t.model->refs)
    if (const StreamConfig* s = config_.FindStream(ref)) {
      def += "\n-- " + s->name + ":";
      for (const auto& f : s->schema.fields) def += " " + f.name + " " + f.type.SqlType();
    }
  return def;
}

std::string Transformer::Render(const Model& model, const std::set<int64_t>& hours) const {
  return RenderModel(model, [this](const std::string& ref) { return RefTable(config_, ref); }, hours);
}

Result<bool> Transformer::HasNewBatches(Warehouse& w) {
  ASSIGN_OR_RETURN(auto r, w.Query("SELECT coalesce(max(seq), 0) FROM _sluice_batches"));
  return std::stoll(r.Scalar()) != last_seq_;
}

int64_t Transformer::RetentionCutoff(const std::set<std::string>& streams) const {
  // Whole days: raw is kept from the start of (today - retention), UTC, matching event_date.
  int64_t today = static_cast<int64_t>(DayOf(NowMicros())) * kMicrosPerDay;
  int64_t cutoff = std::numeric_limits<int64_t>::min();
  for (const auto& name : streams) {
    const StreamConfig* s = config_.FindStream(name);
    if (s && s->retention_us > 0) cutoff = std::max(cutoff, today - s->retention_us / kMicrosPerDay * kMicrosPerDay);
  }
  return cutoff;
}

Result<TransformReport> Transformer::Run(Warehouse& w, const TransformOptions& options) {
  if (!prepared_) RETURN_IF_ERROR(Prepare(w));
  TransformReport report;
  // One snapshot of the ledger for the whole run, so every target absorbs the same batches.
  ASSIGN_OR_RETURN(auto seq, w.Query("SELECT coalesce(max(seq), 0) FROM _sluice_batches"));
  int64_t max_seq = std::stoll(seq.Scalar());
  report.to_seq = max_seq;

  std::map<std::string, std::pair<int64_t, std::string>> cursors;
  ASSIGN_OR_RETURN(auto cur, w.Query("SELECT target, last_seq, definition FROM _sluice_transform_cursor"));
  for (const auto& row : cur.rows) cursors[*row[0]] = {std::stoll(*row[1]), row[2].value_or("")};
  std::set<std::string> tables;
  ASSIGN_OR_RETURN(auto tr, w.Query("SELECT table_name FROM duckdb_tables()"));
  for (const auto& row : tr.rows) tables.insert(*row[0]);

  std::set<int64_t> range;
  if (options.from_us && options.to_us) {
    if (*options.to_us <= *options.from_us) return Status::Invalid("--to must be after --from");
    if ((*options.to_us - *options.from_us) / kMicrosPerHour > kMaxRangeHours)
      return Status::Invalid("--from/--to spans more than " + std::to_string(kMaxRangeHours) + " hours");
    for (int64_t h = HourOf(*options.from_us); h < *options.to_us; h += kMicrosPerHour) range.insert(h);
  }

  std::set<std::string> rebuilt;
  for (const auto& t : order_) {
    std::string definition = Definition(t);
    auto c = cursors.find(t.name);
    bool full = options.full_refresh || !tables.count(t.name) || c == cursors.end() || c->second.second != definition;
    for (const auto& d : t.deps) full |= rebuilt.count(d) > 0;
    int64_t last = c == cursors.end() ? 0 : c->second.first;
    std::set<int64_t> hours;
    if (full) {
      // An incremental model's template needs the hours even for a full build: all of them.
      if (t.model && !t.model->time_column.empty()) {
        ASSIGN_OR_RETURN(hours, HoursOf(w, t.streams, -1, max_seq));
      }
      rebuilt.insert(t.name);
    } else {
      if (last >= max_seq && range.empty()) continue;  // nothing new: leave the table and cursor alone
      ASSIGN_OR_RETURN(hours, HoursOf(w, t.streams, last, max_seq));
      hours.insert(range.begin(), range.end());
      // An hour whose raw rows retention removed would be recomputed from what little is left (a late row):
      // the target keeps what it rolled up before instead.
      int64_t expired = RetentionCutoff(t.streams);
      hours.erase(hours.begin(), hours.lower_bound(expired));
      // A model without a time column cannot be recomputed by hour: rebuild it when its inputs moved.
      if (t.model && t.model->time_column.empty() && !hours.empty()) {
        full = true;
        rebuilt.insert(t.name);
      }
    }
    // A rollup whose table and definition stand can keep its buckets older than the retention cutoff.
    bool keep_expired = tables.count(t.name) && c != cursors.end() && c->second.second == definition;
    RETURN_IF_ERROR(RunTarget(w, t, full, keep_expired, hours, max_seq, definition, report)
                        .WithContext("transforming " + t.name));
  }
  // Retention runs after the targets absorbed this run's batches, so expired raw rows are already in every
  // rollup; the rollups keep them. Rows are stored in event order, so zone maps keep the delete cheap.
  for (const auto& stream : config_.streams) {
    if (stream.retention_us <= 0) continue;
    int32_t keep_from = DayOf(RetentionCutoff({stream.name}));
    RETURN_IF_ERROR(w.Execute("DELETE FROM " + QuoteIdent(stream.raw_table()) + " WHERE event_date < " +
                              "DATE '" + FormatIsoDate(keep_from) + "'").WithContext("retention of " + stream.name));
  }
  last_seq_ = max_seq;
  return report;
}

Status Transformer::RunTarget(Warehouse& w, const TransformTarget& t, bool full, bool keep_expired,
                              const std::set<int64_t>& hours,
                              int64_t max_seq, const std::string& definition, TransformReport& report) {
  std::string sql;
  const std::string table = QuoteIdent(t.name);
  int64_t expired = t.rollup ? RetentionCutoff(t.streams) : std::numeric_limits<int64_t>::min();
  if (full && t.rollup && expired != std::numeric_limits<int64_t>::min() && keep_expired) {
    // Raw before the retention cutoff is gone, so a full refresh rebuilds only the retained buckets and
    // keeps what was rolled up before (the cutoff is a day boundary, so hour and day buckets align).
    const std::string grain = QuoteIdent(t.rollup->grain);
    const std::string ts = QuoteIdent(t.rollup->stream->event_time_field().name);
    sql = "DELETE FROM " + table + " WHERE " + grain + " >= " + SqlTimestamp(expired) + ";\nINSERT INTO " + table +
          " " + RollupSelectSql(*t.rollup, ts + " >= " + SqlTimestamp(expired));
  } else if (full) {
    if (t.rollup && expired != std::numeric_limits<int64_t>::min())
      spdlog::warn("rollup {}: rebuilt from raw, which retention has cut at {}: older buckets are lost", t.name,
                   FormatIsoMicros(expired));
    sql = t.rollup ? RollupFullBuildSql(*t.rollup) : "CREATE OR REPLACE TABLE " + table + " AS " + Render(*t.model, hours);
  } else if (!hours.empty()) {
    if (t.rollup) {
      sql = RollupRecomputeSql(*t.rollup, hours);
    } else {
      sql = "DELETE FROM " + table + " WHERE " + QuoteIdent(t.model->time_column) + " IN (" + SqlTimestampList(hours) +
            ");\nINSERT INTO " + table + " SELECT * FROM (" + Render(*t.model, hours) + ")";
    }
  }
  // The cursor moves in the same transaction as the data, so a crash cannot separate them.
  std::string cursor = "INSERT OR REPLACE INTO _sluice_transform_cursor VALUES (" + QuoteLiteral(t.name) + ", " +
                       std::to_string(max_seq) + ", " + QuoteLiteral(definition) + ", " + SqlTimestamp(NowMicros()) +
                       ")";
  int64_t t0 = NowMicros();
  RETURN_IF_ERROR(w.Execute("BEGIN TRANSACTION"));
  Status st = sql.empty() ? Status::Ok() : w.Execute(sql);
  if (st.ok()) st = w.Execute(cursor);
  if (st.ok()) st = w.Execute("COMMIT");
  if (!st.ok()) {
    (void)w.Execute("ROLLBACK");
    return st;
  }
  if (sql.empty()) return Status::Ok();
  ++report.tables_changed;
  std::string what = full ? "rebuilt" : "recomputed " + std::to_string(hours.size()) + " hour(s)";
  if (!full) report.hours_recomputed += static_cast<int64_t>(hours.size());
  double ms = (NowMicros() - t0) / 1000.0;
  report.lines.push_back(t.name + ": " + what + fmt::format(" in {:.1f} ms", ms));
  spdlog::debug("transform {}: {} in {:.1f} ms", t.name, what, ms);
  return Status::Ok();
}

}  // namespace sluice
