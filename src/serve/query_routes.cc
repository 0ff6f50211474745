#include "serve/query_routes.h"

#include <httplib.h>

#include "serve/format.h"
#include "serve/json_error.h"
#include "serve/read_only_sql.h"

namespace sluice {

void RegisterQueryRoutes(httplib::Server& srv, Pipeline& pipeline) {
  auto query = [&pipeline](const httplib::Request& req, httplib::Response& res, const std::string& forced_format) {
    std::string sql = req.get_param_value("sql");
    if (sql.empty() && req.method == "POST" && !req.has_param("sql")) sql = req.body;
    std::string format = forced_format.empty() ? req.get_param_value("format") : forced_format;
    if (format.empty()) format = "json";
    if (!IsReadOnlySql(sql)) return SendJsonError(res, 400, kReadOnlySqlError);
    QueryResult result;
    Status st = pipeline.WithWarehouse([&](Warehouse& w) {
      ASSIGN_OR_RETURN(result, w.Query(sql));
      return Status::Ok();
    });
    if (!st.ok()) return SendJsonError(res, 400, st.message());
    std::string type = format == "csv" ? "text/csv" : format == "json" ? "application/json" : "text/plain";
    res.set_content(FormatResult(result, format), type);
  };
  srv.Get("/api/query", [query](const httplib::Request& req, httplib::Response& res) { query(req, res, ""); });
  srv.Post("/api/query", [query](const httplib::Request& req, httplib::Response& res) { query(req, res, ""); });
  srv.Get("/api/export.csv", [query](const httplib::Request& req, httplib::Response& res) {
    query(req, res, "csv");
    res.set_header("Content-Disposition", "attachment; filename=\"export.csv\"");
  });
}

}  // namespace sluice
