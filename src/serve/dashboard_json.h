// JSON for the dashboard API: the list of dashboards and one dashboard's definition. Chart data is a
// QueryResult rendered by FormatJsonColumns (format.h). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "serve/dashboard_config.h"

namespace sluice {

// {"dashboards":[{"name","title","description","charts":N},..]}
std::string DashboardListJson(const std::vector<Dashboard>& dashboards);
// {"name","title","description","refresh_seconds","charts":[{"index","title","kind","x","y":[..],"series",
// "range","rollup","sql"},..]}; "sql" is what the server runs for the chart.
std::string DashboardJson(const Dashboard& dashboard);

}  // namespace sluice
