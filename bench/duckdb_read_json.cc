// Baseline for bench/ingest: DuckDB's own path for the same load, `INSERT INTO raw SELECT * FROM read_json(...)`
// into a fresh database file, timed around the statement. Prints "events=<n> seconds=<s>".
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "warehouse/duckdb_adapter.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: duckdb_read_json EVENTS.ndjson DB.duckdb\n");
    return 2;
  }
  std::filesystem::remove(argv[2]);
  auto db = sluice::DuckDb::Open(argv[2]);
  if (!db.ok()) return 1;
  auto st = (*db)->Execute(
      "CREATE TABLE raw_tracking (ts TIMESTAMP, ad_id BIGINT, website_id BIGINT, event VARCHAR, session VARCHAR, "
      "country VARCHAR, ua VARCHAR)");
  auto t0 = std::chrono::steady_clock::now();
  st = (*db)->Execute(std::string("INSERT INTO raw_tracking SELECT * FROM read_json('") + argv[1] +
                      "', format = 'newline_delimited', columns = {ts: 'TIMESTAMP', ad_id: 'BIGINT', website_id: "
                      "'BIGINT', event: 'VARCHAR', session: 'VARCHAR', country: 'VARCHAR', ua: 'VARCHAR'})");
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  (void)(*db)->Execute("CHECKPOINT");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto n = (*db)->Query("SELECT count(*) FROM raw_tracking");
  std::printf("events=%s seconds=%.3f\n", n.ok() ? n->Scalar().c_str() : "?", secs);
  return 0;
}
