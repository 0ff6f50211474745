#include "collect/collector_runner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "collect/collect_loader.h"
#include "collect/http_json_collector.h"

namespace sluice {

Result<HttpClientOptions> CollectorHttpOptions(const CollectorConfig& config, const RunContext& ctx,
                                               std::shared_ptr<EtagCache> etag_cache) {
  HttpClientOptions http;
  http.api_name = config.kind == "github" ? "GitHub" : config.kind == "dockerhub" ? "Docker Hub" : config.name;
  http.base_url = config.base_url;
  http.token_env = config.token_env;
  http.max_attempts = config.max_attempts;
  http.initial_backoff = config.backoff;
  // One request may not outlive the run it belongs to.
  http.timeout = std::min<std::chrono::milliseconds>(http.timeout, config.timeout);
  http.clock = ctx.clock ? ctx.clock : Clock::Real();
  http.stop = ctx.stop;
  http.etag_cache = std::move(etag_cache);
  if (config.kind == "http_json") {
    auto headers = HttpJsonHeaders(config.http_json);
    if (!headers.ok()) return headers.status().WithContext(config.name);
    http.default_headers = std::move(*headers);
  }
  return http;
}

Result<CollectorOutput> CollectOnce(const CollectorConfig& config, HttpClient& client, const RunContext& ctx) {
  if (config.kind == "github") return CollectGitHub(client, config.github, ctx.run_id, ctx.scheduled);
  if (config.kind == "dockerhub") return CollectDockerHub(client, config.dockerhub, ctx.run_id, ctx.scheduled);
  if (config.kind == "http_json") return CollectHttpJson(client, config.http_json, ctx.run_id, ctx.scheduled);
  return Status::Internal("unknown collector kind " + config.kind);
}

Result<CollectorRunSummary> RunCollector(const CollectorConfig& config, const RunContext& ctx,
                                         const CollectorRunOptions& options) {
  ASSIGN_OR_RETURN(HttpClientOptions http,
                   CollectorHttpOptions(config, ctx,
                                        options.etag_cache ? options.etag_cache : std::make_shared<MemoryEtagCache>()));
  HttpClient client(std::move(http));
  Result<CollectorOutput> out = CollectOnce(config, client, ctx);
  if (!out.ok()) return out.status();
  for (const std::string& note : out->notes) spdlog::info("collector {}: {}", config.name, note);

  CollectorRunSummary summary;
  summary.notes = out->notes;
  for (const auto& [table, rows] : out->rows) summary.rows_per_table[table] = static_cast<int64_t>(rows.size());
  for (const FailedPart& f : out->failed) summary.failed_parts.push_back(f.part + ": " + f.error.message());
  // Raw first: the landed responses are what a table is rebuilt from if loading fails.
  std::shared_ptr<ObjectStore> landing = options.landing;
  if (!landing) landing = std::make_shared<LocalObjectStore>(options.landing_root);
  ASSIGN_OR_RETURN(summary.landed_file, LandCollectorOutput(*landing, config.name, ctx.run_id, ctx.scheduled, *out));
  ASSIGN_OR_RETURN(summary.evidence_file, LandFailureEvidence(*landing, config.name, ctx.run_id, ctx.scheduled, *out));
  summary.notes_json = CollectorNotes(*out, summary.landed_file, summary.evidence_file).dump();
  if (ctx.report) {
    ctx.report->notes = summary.notes_json;
    ctx.report->failed_parts = summary.failed_parts;
  }
  if (!out->failed.empty() && out->parts_ok == 0) {
    // Nothing was collected in full: the run failed, with its evidence landed.
    Status first = out->failed[0].error;
    if (out->failed.size() > 1)
      first = first.WithContext("all " + std::to_string(out->failed.size()) + " parts failed, the first");
    return first;
  }
  RETURN_IF_ERROR(options.warehouse([&](Warehouse& w) -> Status {
    auto loaded = LoadCollectorOutput(w, *out);
    if (!loaded.ok()) return loaded.status();
    summary.rows = *loaded;
    return Status::Ok();
  }));
  return summary;
}

ScheduledCollector MakeScheduledCollector(const CollectorConfig& config, CollectorRunOptions options) {
  if (!options.etag_cache) options.etag_cache = std::make_shared<MemoryEtagCache>();
  ScheduledCollector s{config.name, *config.schedule, config.timeout, nullptr};
  s.run = [config, options](const RunContext& ctx) -> Result<int64_t> {
    auto summary = RunCollector(config, ctx, options);
    if (!summary.ok()) return summary.status();
    return summary->rows;
  };
  return s;
}

}  // namespace sluice
