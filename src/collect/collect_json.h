// Small helpers shared by collectors for turning API JSON into row values.
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace sluice {

// Parses a response body; Invalid naming `what` when it is not JSON.
Result<nlohmann::json> ParseJsonBody(const std::string& body, const std::string& what);

// An ISO-8601 timestamp string -> "YYYY-MM-DD HH:MM:SS" (SQL TIMESTAMP text); null when missing or malformed.
nlohmann::json SqlTimestamp(const nlohmann::json& iso);
// The UTC date ("YYYY-MM-DD") of an ISO-8601 timestamp; null when missing or malformed.
nlohmann::json SqlDate(const nlohmann::json& iso);
std::string SqlTimestamp(TimePoint t);
std::string SqlDate(TimePoint t);

// j[key] when present and not null, else null: API fields come and go.
inline nlohmann::json JsonField(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) ? j[key] : nlohmann::json();
}

}  // namespace sluice
