// The "Workers" and "Leases" sections of `sluice status` when several workers share the pipeline: read from
// ZooKeeper as an observer (it holds nothing).
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/cli.h"
#include "coordination/coordinator.h"
#include "core/time.h"
#include "serve/format.h"

namespace sluice::cli {

namespace {

QueryResult Table(std::vector<std::string> columns) {
  QueryResult t;
  t.types.assign(columns.size(), "VARCHAR");
  t.columns = std::move(columns);
  return t;
}

// "events.kafka: events/0, events/3; tracking.http: http/w1"
std::string Partitions(const nlohmann::json& status) {
  std::string out;
  if (!status.contains("partitions") || !status["partitions"].is_object()) return out;
  for (const auto& [source, held] : status["partitions"].items()) {
    std::string list;
    for (const auto& p : held) list += (list.empty() ? "" : ", ") + p.get<std::string>();
    out += (out.empty() ? "" : "; ") + source + ": " + (list.empty() ? "-" : list);
  }
  return out;
}

}  // namespace

Status PrintWorkers(const Config& config) {
  ASSIGN_OR_RETURN(auto observer, Coordinator::Connect(config, ""));
  ASSIGN_OR_RETURN(auto workers, observer->Workers());
  ASSIGN_OR_RETURN(auto leases, observer->Leases());
  QueryResult w = Table({"worker", "since", "pid", "listen", "partitions", "leases"});
  for (const auto& info : workers) {
    nlohmann::json status = nlohmann::json::parse(info.status_json, nullptr, false);
    if (status.is_discarded()) status = nlohmann::json::object();
    int held = 0;
    for (const auto& l : leases) held += l.owner == info.name;
    w.rows.push_back({info.name, FormatIsoMicros(info.since_us),
                      status.contains("pid") ? std::optional<std::string>(status["pid"].dump()) : std::nullopt,
                      status.value("listen", ""), Partitions(status), std::to_string(held)});
  }
  QueryResult l = Table({"lease", "owner", "epoch", "since"});
  for (const auto& info : leases)
    l.rows.push_back({info.name, info.owner, std::to_string(info.epoch), FormatIsoMicros(info.since_us)});
  std::printf("\nWorkers (%s %s)\n%s", config.zookeeper.c_str(), config.coordination_root.c_str(),
              FormatTable(w).c_str());
  std::printf("\nLeases\n%s", FormatTable(l).c_str());
  return Status::Ok();
}

}  // namespace sluice::cli
