#include "collect/collect_json.h"

#include "core/time.h"

namespace sluice {

Result<nlohmann::json> ParseJsonBody(const std::string& body, const std::string& what) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid(what + ": response is not JSON: " + body.substr(0, 120));
  return j;
}

nlohmann::json SqlTimestamp(const nlohmann::json& iso) {
  if (!iso.is_string()) return nullptr;
  auto micros = ParseIsoMicros(iso.get<std::string>());
  if (!micros) return nullptr;
  return FormatSqlTimestamp(*micros);
}

nlohmann::json SqlDate(const nlohmann::json& iso) {
  if (!iso.is_string()) return nullptr;
  auto micros = ParseIsoMicros(iso.get<std::string>());
  if (!micros) return nullptr;
  return FormatIsoDate(DayOf(*micros));
}

std::string SqlTimestamp(TimePoint t) {
  return FormatSqlTimestamp(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

std::string SqlDate(TimePoint t) {
  return FormatIsoDate(DayOf(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()));
}

}  // namespace sluice
