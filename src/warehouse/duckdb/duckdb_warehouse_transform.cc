// DuckDbWarehouse: what transforms need. A target's rows and its cursor change in one transaction, so a crash
// leaves the target either before or after its step (DESIGN.md semantics 3).
#include "core/time.h"
#include "warehouse/duckdb/duckdb_dialect.h"
#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

const char* const kCursorSql = R"sql(
CREATE TABLE IF NOT EXISTS _sluice_transform_cursor (
  target VARCHAR PRIMARY KEY,
  last_seq BIGINT NOT NULL,     -- batches with seq <= last_seq are absorbed
  definition VARCHAR,           -- what the table was built from; a change forces a rebuild
  updated_at TIMESTAMP
))sql";

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
  return "CREATE OR REPLACE VIEW _sluice_watermarks AS WITH lateness(stream, allowed_lateness) AS (VALUES " + lateness +
         ") SELECT l.stream, b.max_event_time, b.max_event_time - l.allowed_lateness AS watermark, "
         "coalesce(b.late_rows, 0) AS late_rows FROM lateness l LEFT JOIN (SELECT stream, max(max_event_time) AS "
         "max_event_time, sum(late_rows) AS late_rows FROM _sluice_batches GROUP BY stream) b USING (stream);\n"
         "CREATE OR REPLACE VIEW _sluice_hours AS WITH h AS (" +
         hours +
         ") SELECT h.stream, h.hour, h.rows, coalesce(h.hour + INTERVAL 1 HOUR <= w.watermark, false) AS final "
         "FROM h JOIN _sluice_watermarks w USING (stream)";
}

std::string StreamList(const std::set<std::string>& streams) {
  std::string out;
  for (const auto& s : streams) out += (out.empty() ? "" : ", ") + QuoteLiteral(s);
  return out.empty() ? "NULL" : out;
}

}  // namespace

const SqlDialect& DuckDbWarehouse::dialect() const {
  static const DuckDbDialect kDialect;
  return kDialect;
}

Status DuckDbWarehouse::PrepareTransforms(const Config& config) {
  RETURN_IF_ERROR(db_->Execute(kCursorSql).WithContext("creating the transform cursor"));
  std::string views = WatermarkViewsSql(config);
  if (!views.empty()) RETURN_IF_ERROR(db_->Execute(views).WithContext("creating the watermark views"));
  return Status::Ok();
}

Result<int64_t> DuckDbWarehouse::LedgerHead() {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT coalesce(max(seq), 0) FROM _sluice_batches"));
  return std::stoll(r.Scalar());
}

Result<std::set<int64_t>> DuckDbWarehouse::TouchedHours(const std::set<std::string>& streams, int64_t after_seq,
                                                        int64_t through_seq) {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT DISTINCT epoch_us(h) FROM (SELECT unnest(event_hours) AS h FROM "
                                      "_sluice_batches WHERE seq > " +
                                      std::to_string(after_seq) + " AND seq <= " + std::to_string(through_seq) +
                                      " AND stream IN (" + StreamList(streams) + "))"));
  std::set<int64_t> hours;
  for (const auto& row : r.rows)
    if (row[0]) hours.insert(std::stoll(*row[0]));
  return hours;
}

Result<std::map<std::string, TransformCursor>> DuckDbWarehouse::TransformCursors() {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT target, last_seq, definition FROM _sluice_transform_cursor"));
  std::map<std::string, TransformCursor> out;
  for (const auto& row : r.rows) out[*row[0]] = {std::stoll(*row[1]), row[2].value_or("")};
  return out;
}

Result<bool> DuckDbWarehouse::HasTable(const std::string& name) {
  ASSIGN_OR_RETURN(auto r, db_->Query("SELECT count(*) FROM duckdb_tables() WHERE table_name = " + QuoteLiteral(name)));
  return r.Scalar() != "0";
}

Status DuckDbWarehouse::WriteTarget(const TargetWrite& write) {
  std::string sql;
  for (const auto& statement : dialect().WriteTargetSql(write)) sql += statement + ";\n";
  sql += "INSERT OR REPLACE INTO _sluice_transform_cursor VALUES (" + QuoteLiteral(write.table) + ", " +
         std::to_string(write.cursor_seq) + ", " + QuoteLiteral(write.definition) + ", " +
         dialect().Timestamp(NowMicros()) + ")";
  RETURN_IF_ERROR(db_->Execute("BEGIN TRANSACTION"));
  Status st = db_->Execute(sql);
  if (st.ok() && write.fence) st = write.fence();
  if (st.ok()) st = db_->Execute("COMMIT");
  if (!st.ok()) (void)db_->Execute("ROLLBACK");
  return st;
}

Status DuckDbWarehouse::DropRawBefore(const StreamConfig& stream, int32_t day) {
  // Rows are stored in event order, so zone maps keep the delete cheap.
  return db_->Execute("DELETE FROM " + QuoteIdent(stream.raw_table()) + " WHERE event_date < DATE '" +
                      FormatIsoDate(day) + "'");
}

}  // namespace sluice
