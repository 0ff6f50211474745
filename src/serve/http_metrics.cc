#include "serve/http_metrics.h"

#include <regex>
#include <utility>
#include <vector>

namespace sluice {

std::string RouteLabel(const std::string& path) {
  // The routes server.cc, query_routes.cc and dashboard_routes.cc register, with the same name patterns; a
  // path they would not match (a 404) is "other".
  static const std::vector<std::pair<std::regex, std::string>> kRoutes = [] {
    std::vector<std::pair<std::regex, std::string>> r;
    for (auto [pattern, label] : std::vector<std::pair<const char*, const char*>>{
             {"/", "/"},
             {"/healthz", "/healthz"},
             {"/metrics", "/metrics"},
             {"/ingest/[A-Za-z0-9_]+", "/ingest/<stream>"},
             {"/api/query", "/api/query"},
             {"/api/export\\.csv", "/api/export.csv"},
             {"/api/auth", "/api/auth"},
             {"/api/dashboards", "/api/dashboards"},
             {"/api/dashboards/[A-Za-z0-9_-]+", "/api/dashboards/<name>"},
             {"/api/dashboards/[A-Za-z0-9_-]+/charts/\\d+", "/api/dashboards/<name>/charts/<i>"},
             {"/dashboards/[A-Za-z0-9_-]+", "/dashboards/<name>"},
             {"/assets/[A-Za-z0-9_.-]+", "/assets/<file>"},
         })
      r.emplace_back(std::regex(pattern), label);
    return r;
  }();
  for (const auto& [re, label] : kRoutes)
    if (std::regex_match(path, re)) return label;
  return "other";
}

void RecordHttpRequest(Metrics& metrics, const std::string& path, int code, double seconds) {
  std::string route = RouteLabel(path);
  metrics.Add("sluice_http_requests_total", "route=\"" + route + "\",code=\"" + std::to_string(code) + "\"", 1);
  if (seconds >= 0) metrics.Observe("sluice_http_request_seconds", "route=\"" + route + "\"", seconds);
}

}  // namespace sluice
