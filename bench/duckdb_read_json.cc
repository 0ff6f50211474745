// Baselines for bench/ingest, DuckDB's own work on the same file, into a fresh database file.
//   duckdb_read_json FILE DB          `INSERT INTO raw SELECT * FROM read_json(...)` then CHECKPOINT: the path
//                                     sluice must beat. Prints "events=<n> seconds=<s>".
//   duckdb_read_json --split FILE DB  the same work in timed steps. parse_seconds: read_json into an
//                                     in-memory table (JSON parsing alone). storage_seconds: INSERT of those
//                                     rows into a table shaped like sluice's raw table (the declared columns
//                                     plus event_date, _extra, _batch, _partition_index, _offset) in the file,
//                                     then CHECKPOINT: the storage work any loader into that table pays.
//                                     string_storage_seconds: the same with raw's layout before issue 13
//                                     (_batch_id, _source, _partition strings on every row instead of _batch
//                                     and _partition_index). Both give every 245,760 rows (one batch) a batch
//                                     of their own.
// A separate run so the baseline's peak RSS is not the split's (which holds every parsed row in memory).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "warehouse/duckdb/duckdb_adapter.h"

namespace {

constexpr const char* kColumns =
    "ts TIMESTAMP, ad_id BIGINT, website_id BIGINT, event VARCHAR, session VARCHAR, country VARCHAR, ua VARCHAR";
constexpr const char* kReadJson =
    "read_json('%s', format = 'newline_delimited', columns = {ts: 'TIMESTAMP', ad_id: 'BIGINT', website_id: "
    "'BIGINT', event: 'VARCHAR', session: 'VARCHAR', country: 'VARCHAR', ua: 'VARCHAR'})";

// Seconds `fn` took, or -1 when it failed (the error is printed).
double Timed(const std::function<sluice::Status()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  sluice::Status st = fn();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return -1;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const bool split = argc == 4 && std::string(argv[1]) == "--split";
  if (argc != 3 && !split) {
    std::fprintf(stderr, "usage: duckdb_read_json [--split] EVENTS.ndjson DB.duckdb\n");
    return 2;
  }
  const std::string events = argv[argc - 2], db_path = argv[argc - 1];
  char read_json[1024];
  std::snprintf(read_json, sizeof read_json, kReadJson, events.c_str());
  for (const auto& p : {db_path, db_path + ".wal"}) std::filesystem::remove(p);
  // DuckDB as its users run it, reading the file itself: not locked down like sluice's own databases.
  auto db = sluice::DuckDb::Open(db_path, {}, /*lock_down=*/false);
  if (!db.ok()) return 1;
  sluice::DuckDb& d = **db;

  if (!split) {
    (void)d.Execute(std::string("CREATE TABLE raw_tracking (") + kColumns + ")");
    double secs = Timed([&] {
      RETURN_IF_ERROR(d.Execute(std::string("INSERT INTO raw_tracking SELECT * FROM ") + read_json));
      return d.Execute("CHECKPOINT");
    });
    auto n = d.Query("SELECT count(*) FROM raw_tracking");
    if (secs < 0) return 1;
    std::printf("events=%s seconds=%.3f\n", n.ok() ? n->Scalar().c_str() : "?", secs);
    return 0;
  }
  (void)d.Execute("ATTACH ':memory:' AS mem");
  double parse = Timed([&] { return d.Execute(std::string("CREATE TABLE mem.parsed AS SELECT * FROM ") + read_json); });
  (void)d.Execute(std::string("CREATE TABLE raw_tracking (") + kColumns +
                  ", event_date DATE, _extra JSON, _batch UBIGINT, _partition_index UINTEGER, _offset BIGINT)");
  double storage = Timed([&] {
    RETURN_IF_ERROR(d.Execute(
        "INSERT INTO raw_tracking SELECT *, ts::DATE, NULL, hash(rowid // 245760), 0, rowid FROM mem.parsed"));
    return d.Execute("CHECKPOINT");
  });
  (void)d.Execute(std::string("CREATE TABLE raw_strings (") + kColumns +
                  ", event_date DATE, _extra JSON, _batch_id VARCHAR, _source VARCHAR, _partition VARCHAR, "
                  "_offset BIGINT)");
  double strings = Timed([&] {
    RETURN_IF_ERROR(
        d.Execute("INSERT INTO raw_strings SELECT *, ts::DATE, NULL, 'tracking.file-events_tracking.ndjson-' || "
                  "(rowid // 245760 * 58000000), 'tracking.file', 'events/tracking.ndjson', rowid FROM mem.parsed"));
    return d.Execute("CHECKPOINT");
  });
  if (parse < 0 || storage < 0 || strings < 0) return 1;
  std::printf("parse_seconds=%.3f storage_seconds=%.3f string_storage_seconds=%.3f\n", parse, storage, strings);
  return 0;
}
