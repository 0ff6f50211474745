#include "serve/query_routes.h"

#include <httplib.h>

#include "serve/format.h"
#include "serve/json_error.h"

namespace sluice {

Result<QueryResult> RunReaderQuery(Readers& readers, const ReadLimits& limits, Metrics& metrics,
                                   const std::string& route, const std::string& sql,
                                   const std::vector<QueryParam>& params) {
  Result<QueryResult> r = readers.Query(sql, limits, params);
  const char* outcome = r.ok()                    ? "ok"
                        : r.status().IsTimedOut() ? "timed_out"
                        : r.status().IsRetry()    ? "busy"
                        : r.status().IsInvalid()  ? "refused"
                                                  : "failed";
  metrics.Add("sluice_queries_total", "route=\"" + route + "\",outcome=\"" + outcome + "\"", 1);
  if (r.ok() && r->truncated) metrics.Add("sluice_query_rows_truncated_total", "route=\"" + route + "\"", 1);
  return r;
}

int HttpStatusForQueryError(const Status& status) {
  if (status.IsTimedOut()) return 504;
  if (status.IsRetry()) return 503;
  return 400;
}

namespace {

// A download name made of safe characters only (it goes into a header).
std::string ExportFileName(const std::string& requested) {
  std::string name;
  for (char c : requested)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') name += c;
  if (name.empty()) name = "export";
  if (!name.ends_with(".csv")) name += ".csv";
  return name;
}

}  // namespace

void RegisterQueryRoutes(httplib::Server& srv, Readers& readers, const ReadLimits& limits, Metrics& metrics,
                         std::function<void(const httplib::Request&, httplib::Response&)> chart_export) {
  auto query = [&readers, limits, &metrics](const httplib::Request& req, httplib::Response& res,
                                            const std::string& route, const std::string& forced_format) {
    std::string sql = req.get_param_value("sql");
    if (sql.empty() && req.method == "POST" && !req.has_param("sql")) sql = req.body;
    std::string format = forced_format.empty() ? req.get_param_value("format") : forced_format;
    if (format.empty()) format = "json";
    if (format != "json" && format != "csv" && format != "table")
      return SendJsonError(res, 400, "format must be json, csv or table");
    auto result = RunReaderQuery(readers, limits, metrics, route, sql);
    if (!result.ok()) {
      if (result.status().IsRetry()) res.set_header("Retry-After", "1");
      return SendJsonError(res, HttpStatusForQueryError(result.status()), result.status().message());
    }
    if (result->truncated) {
      res.set_header("X-Sluice-Truncated", "true");
      res.set_header("X-Sluice-Max-Rows", std::to_string(limits.max_rows));
    }
    std::string type = format == "csv" ? "text/csv" : format == "json" ? "application/json" : "text/plain";
    res.set_content(FormatResult(*result, format), type);
  };
  srv.Get("/api/query",
          [query](const httplib::Request& req, httplib::Response& res) { query(req, res, "/api/query", ""); });
  srv.Post("/api/query",
           [query](const httplib::Request& req, httplib::Response& res) { query(req, res, "/api/query", ""); });
  srv.Get("/api/export.csv", [query, chart_export](const httplib::Request& req, httplib::Response& res) {
    if (chart_export && req.has_param("dashboard")) return chart_export(req, res);
    query(req, res, "/api/export.csv", "csv");
    if (res.status == 200 || res.status == -1)
      res.set_header("Content-Disposition",
                     "attachment; filename=\"" + ExportFileName(req.get_param_value("name")) + "\"");
  });
}

}  // namespace sluice
