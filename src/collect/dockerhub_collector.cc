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
  // Each page is a part: a page that fails ends the listing (its `next` is unknown), the pages before it load.
  PagedFetch fetched = FetchPages(client, url, PageOptions{Pagination::kNextField, "next", 1000, {}});
  int page_no = 0;
  for (const HttpResponse& page : fetched.pages) {
    ++page_no;
    out.Land(page);
    auto parsed = ParseJsonBody(page.body, "dockerhub " + config.namespace_name);
    if (!parsed.ok()) {
      out.failed.push_back({"page " + std::to_string(page_no) + " (" + RedactUrl(page.url) + ")", parsed.status(),
                            LandedResponse::From(page)});
      break;
    }
    ++out.parts_ok;
    const nlohmann::json& body = *parsed;
    for (const nlohmann::json& r : JsonField(body, "results")) {
      nlohmann::json ns = JsonField(r, "namespace");
      out.rows["dockerhub_repo_snapshots"].push_back({
          {"namespace", ns.is_null() ? nlohmann::json(config.namespace_name) : ns},
          {"repo", JsonField(r, "name")},
          {"day", SqlDate(collected_at)},
          {"pull_count", JsonField(r, "pull_count")},
          {"star_count", JsonField(r, "star_count")},
          {"last_updated", SqlTimestamp(JsonField(r, "last_updated"))},
          {"status_description", JsonField(r, "status_description")},
          {"is_private", JsonField(r, "is_private")},
          {"storage_size", JsonField(r, "storage_size")},
          {"date_registered", SqlTimestamp(JsonField(r, "date_registered"))},
          {"collected_at", SqlTimestamp(collected_at)},
          {"run_id", run_id},
      });
    }
  }
  if (fetched.failed || !fetched.status.ok()) {
    if (fetched.failed) out.Land(*fetched.failed);
    std::optional<LandedResponse> evidence;
    if (fetched.failed) evidence = LandedResponse::From(*fetched.failed);
    out.failed.push_back({"page " + std::to_string(fetched.pages.size() + 1), fetched.status.WithContext("dockerhub " + config.namespace_name),
                          std::move(evidence)});
  }
  return out;
}

}  // namespace sluice
