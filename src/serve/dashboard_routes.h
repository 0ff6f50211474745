// The dashboard routes of `sluice run` (registered by Server):
//   GET /                                   the dashboard list page
//   GET /dashboards/<name>                  one dashboard's page
//   GET /assets/<file>                      the page's scripts, styles and Chart.js, compiled into the binary
//   GET /api/dashboards                     DashboardListJson
//   GET /api/dashboards/<name>              DashboardJson (404 for an unknown name)
//   GET /api/dashboards/<name>/charts/<i>   the chart's data: {"chart":i,"elapsed_ms":..,"result":{"columns",
//                                           "types","rows"}}; a failing query answers {"error":..,"sql":..}
//                                           (still 200: the request worked) so the page shows it in that chart.
//   GET /api/auth                           {"token_required":bool}, so the page asks for a token up front.
// The page and assets hold no data and are served without a token, so the page can ask for one; the API
// goes through the server's bearer-token check. Counters: sluice_dashboard_requests_total{route=..},
// sluice_dashboard_chart_errors_total{dashboard=..}, sluice_dashboard_query_micros_total.
// Thread-safety: handlers run on the server's pool; the dashboards are immutable, queries run on the
// warehouse's readers (reader.h) within the server's limits.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "serve/dashboard_config.h"
#include "warehouse/reader.h"

namespace httplib {
class Server;
}

namespace sluice {

// `dashboards`, `readers` and `metrics` must outlive `server`'s handlers. `token_required`: the server checks a
// bearer token (answered by /api/auth).
void RegisterDashboardRoutes(httplib::Server& server, const std::vector<Dashboard>& dashboards, Readers& readers,
                             const ReadLimits& limits, Metrics& metrics, bool token_required);

// Whether `path` is the page, one of its assets or /api/auth (served without a token).
bool IsPublicDashboardPath(const std::string& path);

// Charts refuse results longer than this: a chart of more points is unreadable and slow to ship.
inline constexpr size_t kMaxChartRows = 50'000;

}  // namespace sluice
