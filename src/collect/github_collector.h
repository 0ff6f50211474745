// GitHub collector: for an organisation (all its repositories) or a list of repositories, fetches through
// the REST API the repository snapshot (stars, forks, subscribers - the watchers; GitHub's watchers_count is
// the star count -, open issues, size, default branch, pushed_at, archived, fork, language, topics, license),
// the 14-day clone and view traffic per day, popular referrers and paths, and releases (draft, created_at)
// with their assets (id, label, digest, counts); and through the GraphQL API the issue and PR totals
// (all/open/closed issues, all/open/merged PRs), as the Nebula-Insights collector does.
// Traffic needs a token with push access and GraphQL needs any token: without one they are skipped with a
// note and a log line, not a failure. The whole traffic window is fetched every run, so a run missed for up
// to two weeks loses nothing (rows are upserted by repo and day).
// Thread-safety: a function of its arguments; the client may be shared.
#pragma once

#include <string>
#include <vector>

#include "collect/collector_output.h"
#include "core/http_client.h"
#include "core/status.h"

namespace sluice {

struct GitHubCollectorConfig {
  std::string org;                  // every repository of this organisation...
  std::vector<std::string> repos;   // ...or these "owner/name" repositories
  std::string graphql_path = "/graphql";  // GitHub Enterprise: "/api/graphql" with base URL https://host
  bool traffic = true;
  bool releases = true;
};

// Collects into rows of gh_repo_snapshots, gh_traffic_clones, gh_traffic_views, gh_referrers, gh_paths and
// gh_releases, stamped with `run_id` and `collected_at` (whose UTC date is the snapshot day).
Result<CollectorOutput> CollectGitHub(HttpClient& client, const GitHubCollectorConfig& config,
                                      const std::string& run_id, TimePoint collected_at);

}  // namespace sluice
