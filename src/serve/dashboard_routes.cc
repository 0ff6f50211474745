#include "serve/dashboard_routes.h"

#include <httplib.h>

#include <chrono>

#include "serve/dashboard_json.h"
#include "serve/embedded_file.h"
#include "serve/format.h"
#include "serve/json_error.h"
#include "serve/query_routes.h"

namespace sluice {
namespace {

const Dashboard* Find(const std::vector<Dashboard>& dashboards, const std::string& name) {
  for (const Dashboard& d : dashboards)
    if (d.name == name) return &d;
  return nullptr;
}

void SendAsset(httplib::Response& res, const std::string& name) {
  const EmbeddedFile* f = FindEmbeddedFile(WebAssets(), name);
  if (!f) return SendJsonError(res, 404, "no asset named '" + name + "'");
  res.set_content(f->data.data(), f->data.size(), ContentTypeOf(name));
  res.set_header("Cache-Control", "no-cache");
}

// Runs chart `index` of `d` and answers with its data or its error.
void SendChart(httplib::Response& res, const Dashboard& d, size_t index, Readers& readers, const ReadLimits& limits,
               Metrics& metrics) {
  const ChartConfig& chart = d.charts[index];
  const std::string sql = chart.QuerySql();
  auto start = std::chrono::steady_clock::now();
  // One row past the chart's cap tells a too-long result from one that fits.
  ReadLimits chart_limits = limits;
  chart_limits.max_rows = std::min<int64_t>(limits.max_rows, kMaxChartRows + 1);
  auto answer = RunReaderQuery(readers, chart_limits, metrics, "dashboard_chart", sql);
  Status st = answer.status();
  QueryResult result;
  if (answer.ok()) result = std::move(*answer);
  int64_t micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  metrics.Add("sluice_dashboard_query_micros_total", "", micros);
  if (st.ok() && result.truncated)
    st = Status::Invalid("the query returned more than " + std::to_string(result.rows.size() - 1) +
                         " rows; a chart shows at most " + std::to_string(chart_limits.max_rows - 1) +
                         " (aggregate, or add a range or LIMIT)");
  if (!st.ok()) {
    metrics.Add("sluice_dashboard_chart_errors_total", "dashboard=\"" + d.name + "\"", 1);
    return SendJsonError(res, 200, st.message(), sql);  // the request worked; the chart's query did not
  }
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f", micros / 1000.0);
  std::string body = "{\"chart\":" + std::to_string(index) + ",\"elapsed_ms\":" + elapsed + ",\"result\":";
  res.set_content(body + FormatJsonColumns(result) + "}\n", "application/json");
}

}  // namespace

bool IsPublicDashboardPath(const std::string& path) {
  return path == "/" || path == "/api/auth" || path.starts_with("/dashboards/") || path.starts_with("/assets/");
}

void RegisterDashboardRoutes(httplib::Server& srv, const std::vector<Dashboard>& dashboards, Readers& readers,
                             const ReadLimits& limits, Metrics& metrics, bool token_required) {
  auto count = [&metrics](const char* route) {
    metrics.Add("sluice_dashboard_requests_total", std::string("route=\"") + route + "\"", 1);
  };
  // One page serves the list and every dashboard; its script reads the path.
  auto page = [count](const httplib::Request&, httplib::Response& res) {
    count("page");
    SendAsset(res, "index.html");
  };
  srv.Get("/", page);
  srv.Get(R"(/dashboards/[A-Za-z0-9_-]+)", page);
  srv.Get(R"(/assets/([A-Za-z0-9_.-]+))", [count](const httplib::Request& req, httplib::Response& res) {
    count("asset");
    SendAsset(res, req.matches[1]);
  });
  srv.Get("/api/auth", [token_required](const httplib::Request&, httplib::Response& res) {
    res.set_content(token_required ? "{\"token_required\":true}\n" : "{\"token_required\":false}\n",
                    "application/json");
  });
  srv.Get("/api/dashboards", [count, &dashboards](const httplib::Request&, httplib::Response& res) {
    count("list");
    res.set_content(DashboardListJson(dashboards), "application/json");
  });
  srv.Get(R"(/api/dashboards/([A-Za-z0-9_-]+))",
          [count, &dashboards](const httplib::Request& req, httplib::Response& res) {
            count("definition");
            const Dashboard* d = Find(dashboards, req.matches[1]);
            if (!d) return SendJsonError(res, 404, "no dashboard named '" + std::string(req.matches[1]) + "'");
            res.set_content(DashboardJson(*d), "application/json");
          });
  srv.Get(R"(/api/dashboards/([A-Za-z0-9_-]+)/charts/(\d+))", [count, &dashboards, &readers, limits, &metrics](
                                                                  const httplib::Request& req, httplib::Response& res) {
    count("chart");
    const Dashboard* d = Find(dashboards, req.matches[1]);
    if (!d) return SendJsonError(res, 404, "no dashboard named '" + std::string(req.matches[1]) + "'");
    size_t index = std::stoul(req.matches[2].str().substr(0, 9));
    if (index >= d->charts.size())
      return SendJsonError(res, 404, "dashboard '" + d->name + "' has " + std::to_string(d->charts.size()) + " charts");
    SendChart(res, *d, index, readers, limits, metrics);
  });
}

}  // namespace sluice
