#include "serve/dashboard_routes.h"

#include <httplib.h>

#include <chrono>

#include "core/record_parser.h"
#include "core/time.h"
#include "serve/dashboard_json.h"
#include "serve/embedded_file.h"
#include "serve/format.h"
#include "serve/json_error.h"
#include "serve/query_routes.h"

namespace sluice {
namespace {

void SendAsset(httplib::Response& res, const std::string& name) {
  const EmbeddedFile* f = FindEmbeddedFile(WebAssets(), name);
  if (!f) return SendJsonError(res, 404, "no asset named '" + name + "'");
  res.set_content(f->data.data(), f->data.size(), ContentTypeOf(name));
  res.set_header("Cache-Control", "no-cache");
}

// ISO-8601 UTC of a bound, or JSON null.
void AppendBound(std::string& out, const std::optional<int64_t>& micros) {
  if (micros)
    AppendJsonString(out, FormatIsoMicros(*micros));
  else
    out += "null";
}

// The chart named by a request: dashboard `name`, chart `index` text; answers 404 (or 400) and returns
// null when there is none.
const ChartConfig* FindChart(httplib::Response& res, const DashboardStore::Snapshot& snap, const std::string& name,
                             const std::string& index_text, const Dashboard** dashboard, size_t* index) {
  const Dashboard* d = snap.Find(name);
  if (!d) {
    SendJsonError(res, 404, "no dashboard named '" + name + "'");
    return nullptr;
  }
  if (index_text.empty() || index_text.size() > 9 || index_text.find_first_not_of("0123456789") != std::string::npos) {
    SendJsonError(res, 400, "chart must be a chart's index (0, 1, ...), not '" + index_text + "'");
    return nullptr;
  }
  *index = std::stoul(index_text);
  if (*index >= d->charts.size()) {
    SendJsonError(res, 404, "dashboard '" + d->name + "' has " + std::to_string(d->charts.size()) + " charts");
    return nullptr;
  }
  *dashboard = d;
  return &d->charts[*index];
}

// The request's time range, or a 400 (then nullopt).
std::optional<TimeRange> RequestRange(const httplib::Request& req, httplib::Response& res) {
  auto range =
      ParseTimeRange(req.get_param_value("range"), req.get_param_value("from"), req.get_param_value("to"), NowMicros());
  if (!range.ok()) {
    SendJsonError(res, 400, range.status().message());
    return std::nullopt;
  }
  return *range;
}

// Runs chart `index` of `d` for `range`; what ran is left in `query`.
Result<QueryResult> RunChart(const Dashboard& d, size_t index, const TimeRange& range, Readers& readers,
                             const ReadLimits& limits, Metrics& metrics, ChartQuery& query, int64_t& micros) {
  query = d.charts[index].Query(range);
  auto start = std::chrono::steady_clock::now();
  // One row past the chart's cap tells a too-long result from one that fits.
  ReadLimits chart_limits = limits;
  chart_limits.max_rows = std::min<int64_t>(limits.max_rows, kMaxChartRows + 1);
  Result<QueryResult> result =
      RunReaderQuery(readers, chart_limits, metrics, "dashboard_chart", query.sql, query.params);
  micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  metrics.Add("sluice_dashboard_query_micros_total", "", micros);
  if (result.ok() && result->truncated)
    return Status::Invalid("the query returned more than " + std::to_string(result->rows.size() - 1) +
                           " rows; a chart shows at most " + std::to_string(chart_limits.max_rows - 1) +
                           " (aggregate, or add a range or LIMIT)");
  if (!result.ok()) metrics.Add("sluice_dashboard_chart_errors_total", "dashboard=\"" + d.name + "\"", 1);
  return result;
}

// Answers chart `index` of `d` with its data or its error.
void SendChart(httplib::Response& res, const Dashboard& d, size_t index, const TimeRange& range, Readers& readers,
               const ReadLimits& limits, Metrics& metrics) {
  ChartQuery query;
  int64_t micros = 0;
  auto result = RunChart(d, index, range, readers, limits, metrics, query, micros);
  // The request worked; the chart's query did not.
  if (!result.ok()) return SendJsonError(res, 200, result.status().message(), query.sql);
  const ChartConfig& chart = d.charts[index];
  const bool filtered = range.chosen && !chart.time.empty();
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f", micros / 1000.0);
  std::string body = "{\"chart\":" + std::to_string(index) + ",\"elapsed_ms\":" + elapsed + ",\"time\":";
  AppendJsonString(body, chart.time);
  body += ",\"from\":";
  AppendBound(body, filtered ? range.from_us : std::nullopt);
  body += ",\"to\":";
  AppendBound(body, filtered ? range.to_us : std::nullopt);
  body += ",\"sql\":";
  AppendJsonString(body, query.sql);
  body += ",\"params\":[";
  for (size_t i = 0; i < query.params.size(); ++i) {
    if (i) body += ",";
    AppendJsonString(body, FormatIsoMicros(query.params[i].micros));
  }
  body += "],\"result\":";
  res.set_content(body + FormatJsonColumns(*result) + "}\n", "application/json");
}

// A bound as it goes into a file name: 20261101T000000Z.
std::string FileBound(const std::optional<int64_t>& micros, const char* open) {
  if (!micros) return open;
  std::string out;
  for (char c : FormatIsoMicros(*micros))
    if (c != '-' && c != ':') out += c == '.' ? 'p' : c;
  return out;
}

}  // namespace

Result<TimeRange> ParseTimeRange(const std::string& range, const std::string& from, const std::string& to,
                                 int64_t now_us) {
  TimeRange r;
  if (!range.empty() && (!from.empty() || !to.empty())) return Status::Invalid("give range= or from=/to=, not both");
  if (!range.empty()) {
    r.chosen = true;
    if (range == "all") return r;
    auto span = ParseDurationMicros(range);
    if (!span || *span <= 0)
      return Status::Invalid("range must be a duration such as 24h, 7d, 30d or 90d, or all; not '" + range + "'");
    r.from_us = FloorDiv(now_us, kMicrosPerSecond) * kMicrosPerSecond - *span;
    return r;
  }
  for (const auto& [name, text, bound] : {std::tuple{"from", &from, &r.from_us}, std::tuple{"to", &to, &r.to_us}}) {
    if (text->empty()) continue;
    auto micros = ParseIsoMicros(*text);
    if (!micros)
      return Status::Invalid(std::string(name) + " must be an ISO-8601 date or time (2026-11-01 or " +
                             "2026-11-01T12:00:00Z), not '" + *text + "'");
    *bound = *micros;
    r.chosen = true;
  }
  if (r.from_us && r.to_us && *r.from_us >= *r.to_us)
    return Status::Invalid("from (" + from + ") must be before to (" + to + ")");
  return r;
}

std::string ChartExportFileName(const Dashboard& d, size_t index, const TimeRange& range) {
  std::string slug;
  for (char c : d.charts[index].title) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!slug.empty() && slug.back() != '-')
      slug += '-';
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.size() > 60) slug.resize(60);
  if (slug.empty()) slug = "chart-" + std::to_string(index);
  const bool filtered = range.chosen && !d.charts[index].time.empty();
  return d.name + "-" + slug + "-" + FileBound(filtered ? range.from_us : std::nullopt, "start") + "-" +
         FileBound(filtered ? range.to_us : std::nullopt, "end") + ".csv";
}

bool IsPublicDashboardPath(const std::string& path) {
  return path == "/" || path == "/api/auth" || path.starts_with("/dashboards/") || path.starts_with("/assets/");
}

ChartExportHandler RegisterDashboardRoutes(httplib::Server& srv, DashboardStore& store, Readers& readers,
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
  // The list and a definition look at the files every time: a reloaded page shows an edit at once.
  srv.Get("/api/dashboards", [count, &store](const httplib::Request&, httplib::Response& res) {
    count("list");
    auto snap = store.Current(true);
    res.set_content(DashboardListJson(snap->dashboards, snap->error), "application/json");
  });
  srv.Get(R"(/api/dashboards/([A-Za-z0-9_-]+))", [count, &store](const httplib::Request& req, httplib::Response& res) {
    count("definition");
    auto snap = store.Current(true);
    const Dashboard* d = snap->Find(req.matches[1]);
    if (!d) return SendJsonError(res, 404, "no dashboard named '" + std::string(req.matches[1]) + "'");
    res.set_content(DashboardJson(*d, snap->error), "application/json");
  });
  srv.Get(R"(/api/dashboards/([A-Za-z0-9_-]+)/charts/(\d+))",
          [count, &store, &readers, limits, &metrics](const httplib::Request& req, httplib::Response& res) {
            count("chart");
            auto snap = store.Current();
            const Dashboard* d = nullptr;
            size_t index = 0;
            if (!FindChart(res, *snap, req.matches[1], req.matches[2], &d, &index)) return;
            auto range = RequestRange(req, res);
            if (!range) return;
            SendChart(res, *d, index, *range, readers, limits, metrics);
          });
  return [count, &store, &readers, limits, &metrics](const httplib::Request& req, httplib::Response& res) {
    count("export");
    auto snap = store.Current();
    const Dashboard* d = nullptr;
    size_t index = 0;
    if (!FindChart(res, *snap, req.get_param_value("dashboard"), req.get_param_value("chart"), &d, &index)) return;
    auto range = RequestRange(req, res);
    if (!range) return;
    ChartQuery query;
    int64_t micros = 0;
    auto result = RunChart(*d, index, *range, readers, limits, metrics, query, micros);
    if (!result.ok()) {
      if (result.status().IsRetry()) res.set_header("Retry-After", "1");
      return SendJsonError(res, HttpStatusForQueryError(result.status()), result.status().message(), query.sql);
    }
    res.set_content(FormatResult(*result, "csv"), "text/csv");
    res.set_header("Content-Disposition", "attachment; filename=\"" + ChartExportFileName(*d, index, *range) + "\"");
  };
}

}  // namespace sluice
