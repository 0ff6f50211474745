#include "collect/dockerhub_collector.h"

#include "collect/collect_json.h"
#include "core/http_pagination.h"

namespace sluice {

Result<CollectorOutput> CollectDockerHub(HttpClient& client, const DockerHubCollectorConfig& config,
                                         const std::string& run_id, TimePoint collected_at) {
  if (config.namespace_name.empty()) return Status::Invalid("dockerhub: set namespace");
  CollectorOutput out;
  const std::string url = "/v2/namespaces/" + config.namespace_name +
                          "/repositories?page_size=" + std::to_string(config.page_size);
  ASSIGN_OR_RETURN(auto pages, FetchAllPages(client, url, PageOptions{Pagination::kNextField, "next", 1000}));
  for (const HttpResponse& page : pages) {
    out.Land(page);
    ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(page.body, "dockerhub " + config.namespace_name));
    for (const nlohmann::json& r : JsonField(body, "results")) {
      nlohmann::json ns = JsonField(r, "namespace");
      out.rows["dockerhub_repo_snapshots"].push_back({
          {"namespace", ns.is_null() ? nlohmann::json(config.namespace_name) : ns},
          {"repo", JsonField(r, "name")},
          {"day", SqlDate(collected_at)},
          {"pull_count", JsonField(r, "pull_count")},
          {"star_count", JsonField(r, "star_count")},
          {"last_updated", SqlTimestamp(JsonField(r, "last_updated"))},
          {"collected_at", SqlTimestamp(collected_at)},
          {"run_id", run_id},
      });
    }
  }
  return out;
}

}  // namespace sluice
