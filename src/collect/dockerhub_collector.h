// Docker Hub collector: every repository of a namespace with its pull_count, star_count and last_updated,
// through GET /v2/namespaces/{namespace}/repositories (the older /v2/repositories/{namespace}/ is
// deprecated), following `next` pages. Rate limits (429 + X-Retry-After) are waited out by the HttpClient.
// Pull counts are running totals: dockerhub_pulls_daily differences the daily snapshots.
// Thread-safety: a function of its arguments; the client may be shared.
#pragma once

#include <string>

#include "collect/collector_output.h"
#include "core/http_client.h"
#include "core/status.h"

namespace sluice {

struct DockerHubCollectorConfig {
  std::string namespace_name;  // e.g. "vesoft"
  int page_size = 100;
};

// Collects rows of dockerhub_repo_snapshots stamped with `run_id` and `collected_at`.
Result<CollectorOutput> CollectDockerHub(HttpClient& client, const DockerHubCollectorConfig& config,
                                         const std::string& run_id, TimePoint collected_at);

}  // namespace sluice
