#include "collect/github_collector.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <functional>
#include <map>

#include "collect/collect_json.h"
#include "core/http_pagination.h"

namespace sluice {
namespace {

using nlohmann::json;

const HttpHeaders kRestHeaders = {{"Accept", "application/vnd.github+json"}, {"X-GitHub-Api-Version", "2022-11-28"}};

constexpr const char* kTotalsQuery = R"(query($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) {
    issues { totalCount }
    openIssues: issues(states: OPEN) { totalCount }
    closedIssues: issues(states: CLOSED) { totalCount }
    pullRequests { totalCount }
    openPullRequests: pullRequests(states: OPEN) { totalCount }
    mergedPullRequests: pullRequests(states: MERGED) { totalCount }
  }
})";

// A repository's license as a maintainer names it: the SPDX id, or GitHub's name for it when there is no id
// (GitHub answers spdx_id "NOASSERTION" for a license it files under "Other"); null without a license.
json LicenseName(const json& license) {
  const json spdx = JsonField(license, "spdx_id");
  if (spdx.is_string() && !spdx.get<std::string>().empty() && spdx != "NOASSERTION") return spdx;
  return JsonField(license, "name");
}

class GitHubRun {
 public:
  GitHubRun(HttpClient& client, const GitHubCollectorConfig& config, std::string run_id, TimePoint at)
      : client_(client), config_(config), run_id_(std::move(run_id)),
        collected_at_(SqlTimestamp(at)), day_(SqlDate(at)) {
    const std::string& env = client.options().token_env;
    const char* token = env.empty() ? nullptr : std::getenv(env.c_str());
    has_token_ = token && *token;
  }

  Result<CollectorOutput> Run() {
    std::vector<std::string> repos = config_.repos;
    if (!config_.org.empty()) {
      // Without the list there is nothing to collect: the run fails, with the listing as its evidence.
      const std::string part = "repositories of " + config_.org;
      evidence_.reset();
      Status listed = Pages("/orgs/" + config_.org + "/repos?per_page=100&type=all", [&](const json& list) {
        for (const json& r : list) repos.push_back(r.value("full_name", ""));
        return Status::Ok();
      });
      if (listed.code() == StatusCode::kCancelled) return listed;
      if (!listed.ok()) {
        out_.failed.push_back({part, listed.WithContext("github " + part), evidence_});
        return std::move(out_);
      }
    }
    if (!has_token_) {
      Note("no token: traffic and issue/PR totals skipped (set " + TokenEnv() + ")");
      out_.skipped.push_back({"*", "traffic, issue/PR totals", "no token (" + TokenEnv() + " unset)"});
    }
    for (const std::string& repo : repos) {
      if (repo.empty()) continue;
      // A repository that fails leaves no rows (not half of them) and does not stop the others.
      std::map<std::string, size_t> marks;
      for (const auto& [table, rows] : out_.rows) marks[table] = rows.size();
      evidence_.reset();
      Status st = Repo(repo);
      if (st.code() == StatusCode::kCancelled) return st;
      if (st.ok()) {
        ++out_.parts_ok;
        continue;
      }
      for (auto& [table, rows] : out_.rows) rows.resize(marks.count(table) ? marks[table] : 0);
      spdlog::warn("github: {}: {}", repo, st.message());
      out_.failed.push_back({repo, st.WithContext("github " + repo), evidence_});
    }
    return std::move(out_);
  }

 private:
  std::string TokenEnv() const {
    return client_.options().token_env.empty() ? "token_env" : client_.options().token_env;
  }
  void Note(std::string note) {
    spdlog::info("github: {}", note);
    out_.notes.push_back(std::move(note));
  }
  json Stamp(json row) {
    row["collected_at"] = collected_at_;
    row["run_id"] = run_id_;
    return row;
  }

  // Keeps `r` as the evidence of the part being collected.
  void Evidence(const HttpResponse& r) { evidence_ = LandedResponse::From(r); }

  // GETs one URL that must succeed, landing it; what failed it is kept as evidence.
  Result<json> GetJson(const std::string& path) {
    HttpResponse last;
    auto got = client_.Get(path, kRestHeaders, &last);
    if (!got.ok()) {
      if (last.status != 0) Evidence(last);
      return got.status();
    }
    const HttpResponse& r = *got;
    out_.Land(r);
    if (!r.ok()) {
      Evidence(r);
      return HttpError(r);
    }
    auto body = ParseJsonBody(r.body, path);
    if (!body.ok()) Evidence(r);
    return body;
  }

  // GETs `path` and every page after it (Link rel="next", which may point at another path), with the REST
  // headers on every page, calling `each` with each page's JSON array.
  Status Pages(const std::string& path, const std::function<Status(const json&)>& each) {
    PageOptions paging;
    paging.headers = kRestHeaders;
    PagedFetch fetched = FetchPages(client_, path, paging);
    for (const HttpResponse& page : fetched.pages) {
      out_.Land(page);
      auto list = ParseJsonBody(page.body, path);
      if (!list.ok()) {
        Evidence(page);
        return list.status();
      }
      RETURN_IF_ERROR(each(*list));
    }
    if (fetched.failed) {
      Evidence(*fetched.failed);
      out_.Land(*fetched.failed);
    }
    return fetched.status;
  }

  Status Repo(const std::string& repo) {
    ASSIGN_OR_RETURN(json r, GetJson("/repos/" + repo));
    json snapshot = Stamp({{"day", day_},
                           {"repo", repo},
                           {"stars", JsonField(r, "stargazers_count")},
                           {"forks", JsonField(r, "forks_count")},
                           // Not watchers_count: GitHub keeps that name for stars; subscribers are the watchers.
                           {"subscribers", JsonField(r, "subscribers_count")},
                           {"open_issues", JsonField(r, "open_issues_count")},
                           {"size_kb", JsonField(r, "size")},
                           {"default_branch", JsonField(r, "default_branch")},
                           {"pushed_at", SqlTimestamp(JsonField(r, "pushed_at"))},
                           {"archived", JsonField(r, "archived")},
                           {"fork", JsonField(r, "fork")},
                           {"language", JsonField(r, "language")},
                           {"topics", JsonField(r, "topics")},
                           {"license", LicenseName(JsonField(r, "license"))}});
    if (has_token_) RETURN_IF_ERROR(Totals(repo, &snapshot));
    out_.rows["gh_repo_snapshots"].push_back(std::move(snapshot));
    if (config_.traffic && has_token_) RETURN_IF_ERROR(Traffic(repo));
    if (config_.releases) RETURN_IF_ERROR(Releases(repo));
    return Status::Ok();
  }

  Status Totals(const std::string& repo, json* snapshot) {
    size_t slash = repo.find('/');
    json request = {{"query", kTotalsQuery},
                    {"variables", {{"owner", repo.substr(0, slash)}, {"name", repo.substr(slash + 1)}}}};
    ASSIGN_OR_RETURN(HttpResponse r, client_.Post(config_.graphql_path, request.dump(), {{"Content-Type", "application/json"}}));
    out_.Land(r);
    if (!r.ok()) {
      Evidence(r);
      return HttpError(r, "POST");
    }
    auto parsed = ParseJsonBody(r.body, "graphql");
    if (!parsed.ok()) Evidence(r);
    ASSIGN_OR_RETURN(json body, std::move(parsed));
    if (body.contains("errors") && !body["errors"].empty()) {
      Evidence(r);
      return Status::Invalid("graphql: " + body["errors"][0].value("message", body["errors"].dump()));
    }
    const json repo_data = JsonField(JsonField(body, "data"), "repository");
    auto total = [&](const char* alias) { return JsonField(JsonField(repo_data, alias), "totalCount"); };
    (*snapshot)["issues_total"] = total("issues");
    (*snapshot)["issues_open"] = total("openIssues");
    (*snapshot)["issues_closed"] = total("closedIssues");
    (*snapshot)["prs_total"] = total("pullRequests");
    (*snapshot)["prs_open"] = total("openPullRequests");
    (*snapshot)["prs_merged"] = total("mergedPullRequests");
    return Status::Ok();
  }

  Status Traffic(const std::string& repo) {
    // A 403 here means the token lacks push access to this repository: skip its traffic, keep the run.
    HttpResponse last;
    auto got = client_.Get("/repos/" + repo + "/traffic/clones?per=day", kRestHeaders, &last);
    if (!got.ok()) {
      if (last.status != 0) Evidence(last);
      return got.status();
    }
    const HttpResponse& probe = *got;
    out_.Land(probe);
    if (probe.status == 403) {
      Note(repo + ": traffic skipped: the token has no push access (HTTP 403)");
      out_.skipped.push_back({repo, "traffic", "the token has no push access (HTTP 403)"});
      return Status::Ok();
    }
    if (!probe.ok()) {
      Evidence(probe);
      return HttpError(probe);
    }
    auto parsed = ParseJsonBody(probe.body, "clones");
    if (!parsed.ok()) Evidence(probe);
    ASSIGN_OR_RETURN(json clones, std::move(parsed));
    for (const json& c : JsonField(clones, "clones")) {
      out_.rows["gh_traffic_clones"].push_back(Stamp({{"repo", repo}, {"day", SqlDate(JsonField(c, "timestamp"))},
                                                      {"count", JsonField(c, "count")}, {"uniques", JsonField(c, "uniques")}}));
    }
    ASSIGN_OR_RETURN(json views, GetJson("/repos/" + repo + "/traffic/views?per=day"));
    for (const json& v : JsonField(views, "views")) {
      out_.rows["gh_traffic_views"].push_back(Stamp({{"repo", repo}, {"day", SqlDate(JsonField(v, "timestamp"))},
                                                     {"count", JsonField(v, "count")}, {"uniques", JsonField(v, "uniques")}}));
    }
    ASSIGN_OR_RETURN(json referrers, GetJson("/repos/" + repo + "/traffic/popular/referrers"));
    for (const json& f : referrers) {
      out_.rows["gh_referrers"].push_back(Stamp({{"repo", repo}, {"day", day_}, {"referrer", JsonField(f, "referrer")},
                                                 {"count", JsonField(f, "count")}, {"uniques", JsonField(f, "uniques")}}));
    }
    ASSIGN_OR_RETURN(json paths, GetJson("/repos/" + repo + "/traffic/popular/paths"));
    for (const json& p : paths) {
      out_.rows["gh_paths"].push_back(Stamp({{"repo", repo}, {"day", day_}, {"path", JsonField(p, "path")},
                                             {"title", JsonField(p, "title")}, {"count", JsonField(p, "count")},
                                             {"uniques", JsonField(p, "uniques")}}));
    }
    return Status::Ok();
  }

  Status Releases(const std::string& repo) {
    return Pages("/repos/" + repo + "/releases?per_page=100", [&](const json& list) {
      for (const json& rel : list) {
        json assets = json::array();
        for (const json& a : JsonField(rel, "assets")) {
          // The id tells a re-uploaded asset (same name, counter restarted) from the one it replaced.
          assets.push_back({{"id", JsonField(a, "id")},
                            {"name", JsonField(a, "name")},
                            {"label", JsonField(a, "label")},
                            {"digest", JsonField(a, "digest")},
                            {"content_type", JsonField(a, "content_type")},
                            {"size", JsonField(a, "size")},
                            {"download_count", JsonField(a, "download_count")},
                            {"created_at", SqlTimestamp(JsonField(a, "created_at"))},
                            {"updated_at", SqlTimestamp(JsonField(a, "updated_at"))},
                            {"browser_download_url", JsonField(a, "browser_download_url")}});
        }
        out_.rows["gh_releases"].push_back(Stamp({{"repo", repo},
                                                  {"day", day_},
                                                  {"release_id", JsonField(rel, "id")},
                                                  {"tag", JsonField(rel, "tag_name")},
                                                  {"name", JsonField(rel, "name")},
                                                  {"published_at", SqlTimestamp(JsonField(rel, "published_at"))},
                                                  {"prerelease", JsonField(rel, "prerelease")},
                                                  {"draft", JsonField(rel, "draft")},
                                                  {"created_at", SqlTimestamp(JsonField(rel, "created_at"))},
                                                  {"assets", assets}}));
      }
      return Status::Ok();
    });
  }

  HttpClient& client_;
  const GitHubCollectorConfig& config_;
  std::string run_id_, collected_at_, day_;
  bool has_token_ = false;
  CollectorOutput out_;
  std::optional<LandedResponse> evidence_;  // what failed the part being collected
};

}  // namespace

Result<CollectorOutput> CollectGitHub(HttpClient& client, const GitHubCollectorConfig& config,
                                      const std::string& run_id, TimePoint collected_at) {
  if (config.org.empty() && config.repos.empty()) return Status::Invalid("github: set org or repos");
  return GitHubRun(client, config, run_id, collected_at).Run();
}

}  // namespace sluice
