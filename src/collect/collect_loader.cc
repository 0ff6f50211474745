#include "collect/collect_loader.h"

#include <algorithm>

#include "collect/collect_json.h"
#include "collect/collect_tables.h"

namespace sluice {

using nlohmann::json;

namespace {

std::string RunFileStem(const std::string& collector, const std::string& run_id, TimePoint at) {
  std::string file = run_id;
  for (char& c : file) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  }
  return "collect/" + collector + "/dt=" + SqlDate(at) + "/" + file;
}

}  // namespace

Result<std::string> LandCollectorOutput(const std::string& landing_root, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out) {
  LocalObjectStore store(landing_root);
  return LandCollectorOutput(store, collector, run_id, at, out);
}

Result<std::string> LandCollectorOutput(ObjectStore& landing, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out) {
  json landed = json::array();
  for (const LandedResponse& r : out.responses) {
    json body = json::parse(r.body, nullptr, false);
    landed.push_back({{"url", RedactUrl(r.url)},
                      {"status", r.status},
                      {"fetched_at", SqlTimestamp(r.fetched_at)},
                      {"from_cache", r.from_cache},
                      {"body", body.is_discarded() ? json(r.body) : body}});
  }
  const std::string text = landed.dump(-1, ' ', false, json::error_handler_t::replace);
  ASSIGN_OR_RETURN(std::string stem, PutVersioned(landing, RunFileStem(collector, run_id, at), {{".json", text}}));
  return landing.Locator(stem + ".json");
}

Result<std::string> LandFailureEvidence(ObjectStore& landing, const std::string& collector,
                                        const std::string& run_id, TimePoint at, const CollectorOutput& out) {
  if (out.failed.empty()) return std::string();
  json parts = json::array();
  for (const FailedPart& f : out.failed) {
    json part = {{"part", f.part}, {"error", f.error.ToString()}};
    if (f.response) {
      const LandedResponse& r = *f.response;
      part["url"] = RedactUrl(r.url);
      part["status"] = r.status;
      part["fetched_at"] = SqlTimestamp(r.fetched_at);
      part["content_type"] = r.content_type;
      part["body_bytes"] = r.body.size();
      part["truncated"] = r.body.size() > kEvidenceBodyCap;
      part["body"] = r.body.substr(0, kEvidenceBodyCap);  // as text: an HTML proxy page stays readable
    }
    parts.push_back(std::move(part));
  }
  // A body cut inside a UTF-8 sequence, or not UTF-8 at all, is kept with U+FFFD for the bad bytes.
  const std::string text = parts.dump(2, ' ', false, json::error_handler_t::replace);
  ASSIGN_OR_RETURN(std::string stem,
                   PutVersioned(landing, RunFileStem(collector, run_id, at) + ".failed", {{".json", text}}));
  return landing.Locator(stem + ".json");
}

json CollectorNotes(const CollectorOutput& out, const std::string& landed, const std::string& evidence) {
  json notes = json::object();
  int64_t from_cache = 0;
  json waits = json::array();
  for (const LandedResponse& r : out.responses) {
    if (r.from_cache) ++from_cache;
    for (const std::string& w : r.rate_limit_waits) waits.push_back(w);
  }
  for (const FailedPart& f : out.failed)
    if (f.response)
      for (const std::string& w : f.response->rate_limit_waits)
        if (std::find(waits.begin(), waits.end(), w) == waits.end()) waits.push_back(w);
  notes["pages_fetched"] = out.responses.size();
  notes["served_from_cache"] = from_cache;
  notes["rate_limit_waits"] = waits;
  json skipped = json::array();
  for (const SkippedPart& s : out.skipped) skipped.push_back({{"part", s.part}, {"what", s.what}, {"reason", s.reason}});
  notes["skipped"] = skipped;
  json failed = json::array();
  for (const FailedPart& f : out.failed) failed.push_back({{"part", f.part}, {"error", f.error.ToString()}});
  notes["failed"] = failed;
  notes["messages"] = out.notes;
  if (!landed.empty()) notes["landed"] = landed;
  if (!evidence.empty()) notes["evidence"] = evidence;
  return notes;
}

Result<int64_t> LoadCollectorOutput(Warehouse& wh, const CollectorOutput& out) {
  std::vector<KeyedTable> tables = CollectTables();
  for (const auto& [name, table] : out.tables) tables.push_back(table);
  RETURN_IF_ERROR(wh.PrepareKeyedTables(tables, CollectViews()).WithContext("creating collect tables"));
  std::vector<KeyedRows> batches;
  for (const auto& [table_name, rows] : out.rows) {
    const KeyedTable* table = FindCollectTable(table_name);
    auto defined = out.tables.find(table_name);
    if (!table && defined == out.tables.end()) return Status::Internal("no collect table named " + table_name);
    batches.push_back({table ? *table : defined->second, rows});
  }
  auto written = wh.UpsertRows(batches);
  if (!written.ok()) return written.status().WithContext("loading collected rows");
  return written;
}

}  // namespace sluice
