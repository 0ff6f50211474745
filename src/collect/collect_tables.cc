#include "collect/collect_tables.h"

namespace sluice {
namespace {

FieldType Scalar(TypeKind kind) {
  FieldType t;
  t.kind = kind;
  return t;
}

Field F(const char* name, TypeKind kind) { return {name, Scalar(kind)}; }

// The columns every collector table ends with: when and by which run the row was collected.
std::vector<Field> WithRunColumns(std::vector<Field> columns) {
  columns.push_back(F("collected_at", TypeKind::kTimestamp));
  columns.push_back(F("run_id", TypeKind::kString));
  return columns;
}

// A release's assets: a list of structs, nested where the data is nested.
Field Assets() {
  FieldType asset;
  asset.kind = TypeKind::kStruct;
  // Fields added since the first release of this table go last: a warehouse that has the table gets them
  // added in place (PrepareKeyedTables), and both engines keep struct fields in declaration order.
  asset.fields = {F("name", TypeKind::kString),
                  F("content_type", TypeKind::kString),
                  F("size", TypeKind::kInt64),
                  F("download_count", TypeKind::kInt64),
                  F("created_at", TypeKind::kTimestamp),
                  F("updated_at", TypeKind::kTimestamp),
                  F("browser_download_url", TypeKind::kString),
                  F("id", TypeKind::kInt64),
                  F("label", TypeKind::kString),
                  F("digest", TypeKind::kString)};
  FieldType list;
  list.kind = TypeKind::kList;
  list.element = std::make_shared<FieldType>(asset);
  return {"assets", list};
}

Field Strings(const char* name) {
  FieldType list;
  list.kind = TypeKind::kList;
  list.element = std::make_shared<FieldType>(Scalar(TypeKind::kString));
  return {name, list};
}

}  // namespace

const std::vector<KeyedTable>& CollectTables() {
  using K = TypeKind;
  static const std::vector<KeyedTable> kTables = {
      // No `watchers` any more: it held GitHub's watchers_count, which is the star count. A warehouse created
      // before keeps that column and its history (columns are never dropped); new rows leave it NULL.
      {"gh_repo_snapshots",
       WithRunColumns({F("day", K::kDate), F("repo", K::kString), F("stars", K::kInt64), F("forks", K::kInt64),
                       F("subscribers", K::kInt64), F("open_issues", K::kInt64), F("size_kb", K::kInt64),
                       F("default_branch", K::kString), F("pushed_at", K::kTimestamp), F("issues_total", K::kInt64),
                       F("issues_open", K::kInt64), F("issues_closed", K::kInt64), F("prs_total", K::kInt64),
                       F("prs_open", K::kInt64), F("prs_merged", K::kInt64), F("archived", K::kBool),
                       F("fork", K::kBool), F("language", K::kString), Strings("topics"),
                       F("license", K::kString)}),
       {"repo", "day"}},
      {"gh_traffic_clones",
       WithRunColumns({F("repo", K::kString), F("day", K::kDate), F("count", K::kInt64), F("uniques", K::kInt64)}),
       {"repo", "day"}},
      {"gh_traffic_views",
       WithRunColumns({F("repo", K::kString), F("day", K::kDate), F("count", K::kInt64), F("uniques", K::kInt64)}),
       {"repo", "day"}},
      // Referrers and paths are GitHub's 14-day top-10 as of the collection day.
      {"gh_referrers",
       WithRunColumns({F("repo", K::kString), F("day", K::kDate), F("referrer", K::kString), F("count", K::kInt64),
                       F("uniques", K::kInt64)}),
       {"repo", "day", "referrer"}},
      {"gh_paths",
       WithRunColumns({F("repo", K::kString), F("day", K::kDate), F("path", K::kString), F("title", K::kString),
                       F("count", K::kInt64), F("uniques", K::kInt64)}),
       {"repo", "day", "path"}},
      {"gh_releases",
       WithRunColumns({F("repo", K::kString), F("day", K::kDate), F("release_id", K::kInt64), F("tag", K::kString),
                       F("name", K::kString), F("published_at", K::kTimestamp), F("prerelease", K::kBool), Assets(),
                       F("draft", K::kBool), F("created_at", K::kTimestamp)}),
       {"repo", "day", "release_id"}},
      {"dockerhub_repo_snapshots",
       WithRunColumns({F("namespace", K::kString), F("repo", K::kString), F("day", K::kDate),
                       F("pull_count", K::kInt64), F("star_count", K::kInt64), F("last_updated", K::kTimestamp),
                       F("status_description", K::kString), F("is_private", K::kBool), F("storage_size", K::kInt64),
                       F("date_registered", K::kTimestamp)}),
       {"namespace", "repo", "day"}},
  };
  return kTables;
}

const KeyedTable* FindCollectTable(const std::string& name) {
  for (const KeyedTable& t : CollectTables())
    if (name == t.name) return &t;
  return nullptr;
}

const std::vector<DeltaView>& CollectViews() {
  static const std::vector<DeltaView> kViews = {
      {"gh_stars_daily", "gh_repo_snapshots", {"repo", "day", "stars"}, "", {}, {"repo"}, "day", "stars", "new_stars"},
      // Per asset name, restarting where the asset id changes: a re-uploaded asset (new id, count from zero)
      // counts its new downloads instead of a negative day.
      {"gh_release_downloads_daily",
       "gh_releases",
       {"repo", "day", "tag"},
       "assets",
       {{"name", "asset"}, {"download_count", "download_count"}, {"id", "asset_id"}},
       {"repo", "tag", "asset"},
       "day",
       "download_count",
       "downloads",
       "asset_id"},
      {"dockerhub_pulls_daily",
       "dockerhub_repo_snapshots",
       {"namespace", "repo", "day", "pull_count"},
       "",
       {},
       {"namespace", "repo"},
       "day",
       "pull_count",
       "pulls"},
  };
  return kViews;
}

}  // namespace sluice
