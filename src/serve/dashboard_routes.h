// The dashboard routes of `sluice run` (registered by Server):
//   GET /                                   the dashboard list page
//   GET /dashboards/<name>                  one dashboard's page
//   GET /assets/<file>                      the page's scripts, styles and Chart.js, compiled into the binary
//   GET /api/dashboards                     DashboardListJson
//   GET /api/dashboards/<name>              DashboardJson (404 for an unknown name)
//   GET /api/dashboards/<name>/charts/<i>   the chart's data: {"chart":i,"elapsed_ms":..,"time":..,"from":..,
//                                           "to":..,"sql":..,"params":[..],"result":{"columns","types","rows"}};
//                                           a failing query answers {"error":..,"sql":..} (still 200: the
//                                           request worked) so the page shows it in that chart.
//   GET /api/export.csv?dashboard=<name>&chart=<i>   the same rows as CSV, as a download named
//                                           "<dashboard>-<chart-title-slug>-<from>-<to>.csv" (ChartExportFileName)
//   GET /api/auth                           {"token_required":bool}, so the page asks for a token up front.
// The chart and export routes take the page's time range (ParseTimeRange): range=24h|7d|30d|90d|all, or
// from=ISO&to=ISO; a malformed one is a 400 naming the parameter. "from"/"to" in the answer are the bounds
// it resolved to (ISO-8601 UTC, null when open), so the page's download asks for exactly the rows it shows.
// The page and assets hold no data and are served without a token, so the page can ask for one; the API
// goes through the server's bearer-token check. Counters: sluice_dashboard_requests_total{route=..},
// sluice_dashboard_chart_errors_total{dashboard=..}, sluice_dashboard_query_micros_total.
// Thread-safety: handlers run on the server's pool; each request takes the store's current snapshot
// (dashboard_store.h), queries run on the warehouse's readers (reader.h) within the server's limits.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "serve/dashboard_config.h"
#include "serve/dashboard_store.h"
#include "warehouse/reader.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace sluice {

// Answers GET /api/export.csv for a request that names a dashboard (RegisterQueryRoutes hands it those).
using ChartExportHandler = std::function<void(const httplib::Request&, httplib::Response&)>;

// `store`, `readers` and `metrics` must outlive `server`'s handlers. `token_required`: the server checks a
// bearer token (answered by /api/auth). Returns the chart export handler for RegisterQueryRoutes.
ChartExportHandler RegisterDashboardRoutes(httplib::Server& server, DashboardStore& store, Readers& readers,
                                           const ReadLimits& limits, Metrics& metrics, bool token_required);

// Whether `path` is the page, one of its assets or /api/auth (served without a token).
bool IsPublicDashboardPath(const std::string& path);

// The time range a request chooses: `range` (a duration such as 24h, 7d, 90d: [now - it, open); or "all"),
// or `from` and/or `to` (ISO-8601: a date, or a date and time, UTC unless an offset is given; [from, to)).
// None of them: nothing chosen. Invalid, naming the parameter, for a malformed value, both kinds at once, or
// from not before to.
Result<TimeRange> ParseTimeRange(const std::string& range, const std::string& from, const std::string& to,
                                 int64_t now_us);

// "<dashboard>-<chart-title-slug>-<from>-<to>.csv", the bounds as 20261101T000000Z ("start" and "end" when
// open); only letters, digits, '-' and '.'.
std::string ChartExportFileName(const Dashboard& dashboard, size_t index, const TimeRange& range);

// Charts refuse results longer than this: a chart of more points is unreadable and slow to ship.
inline constexpr size_t kMaxChartRows = 50'000;

}  // namespace sluice
