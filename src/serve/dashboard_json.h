// JSON for the dashboard API: the list of dashboards and one dashboard's definition. Chart data is a
// QueryResult rendered by FormatJsonColumns (format.h). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "serve/dashboard_config.h"

namespace sluice {

// {"dashboards":[{"name","title","description","charts":N},..],"reload_error":".."}; `reload_error`: the
// dashboard files' current errors (DashboardStore), "" when none.
std::string DashboardListJson(const std::vector<Dashboard>& dashboards, const std::string& reload_error = "");
// {"name","title","description","refresh_seconds","charts":[{"index","title","kind","x","y":[..],"series",
// "range","time","rollup","sql"},..],"reload_error":".."}; "sql" is what the server runs for the chart when
// no time range is chosen; "time" is the column a range filters ("" : not filtered by time).
std::string DashboardJson(const Dashboard& dashboard, const std::string& reload_error = "");

}  // namespace sluice
