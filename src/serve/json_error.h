// SendJsonError: the one shape of every error the HTTP API answers, {"error": "...", "sql": "..."}.
// Thread-safe (touches only the response it is given).
#pragma once

#include <string>

namespace httplib {
struct Response;
}

namespace sluice {

// Sets `res` to status `code` and a JSON body carrying `message`, plus the SQL that failed when given.
void SendJsonError(httplib::Response& res, int code, const std::string& message, const std::string& sql = "");

}  // namespace sluice
