// The query routes of `sluice run` (registered by Server):
//   GET|POST /api/query     sql=... (or the POST body) &format=json|csv|table; one statement that reads.
//   GET /api/export.csv     sql=...; the same as CSV, as a download (export.csv, or name=...). With
//                           dashboard=...&chart=..., a chart's rows instead (dashboard_routes.h).
// Queries run on the warehouse's readers (reader.h), never on the loader's connection, within the server's
// limits: 400 with the engine's reason for a refused or failing statement, 504 past server.query_timeout,
// 503 when every reader stays busy. A result cut at server.max_rows says so in the header
// "X-Sluice-Truncated: true" (with X-Sluice-Max-Rows), and the table format in its last line; JSON and CSV
// keep their shape so clients that read rows keep working.
// Counters: sluice_queries_total{route,outcome=ok|refused|failed|timed_out|busy}, sluice_query_rows_truncated_total.
// Thread-safety: handlers run on the server's pool; readers are thread-safe.
#pragma once

#include <functional>
#include <vector>

#include "core/metrics.h"
#include "warehouse/reader.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace sluice {

// `readers` and `metrics` must outlive `server`'s handlers. `chart_export`, when set, answers the exports
// that name a dashboard.
void RegisterQueryRoutes(httplib::Server& server, Readers& readers, const ReadLimits& limits, Metrics& metrics,
                         std::function<void(const httplib::Request&, httplib::Response&)> chart_export = {});

// Runs `sql` (its placeholders bound to `params`) on `readers` and counts its outcome under `route`: the one
// way the server runs people's SQL.
Result<QueryResult> RunReaderQuery(Readers& readers, const ReadLimits& limits, Metrics& metrics,
                                   const std::string& route, const std::string& sql,
                                   const std::vector<QueryParam>& params = {});

// The HTTP status for a reader query's error: 400 refused or failed, 504 timed out, 503 busy.
int HttpStatusForQueryError(const Status& status);

}  // namespace sluice
