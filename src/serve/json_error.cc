#include "serve/json_error.h"

#include <httplib.h>

#include "core/record_parser.h"

namespace sluice {

void SendJsonError(httplib::Response& res, int code, const std::string& message, const std::string& sql) {
  std::string body = "{\"error\":";
  AppendJsonString(body, message);
  if (!sql.empty()) {
    body += ",\"sql\":";
    AppendJsonString(body, sql);
  }
  res.status = code;
  res.set_content(body + "}\n", "application/json");
}

}  // namespace sluice
