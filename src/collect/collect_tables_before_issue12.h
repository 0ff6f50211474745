// The collectors' tables as a warehouse from before issue 12 declared them, for the upgrade tests of both
// engines: gh_repo_snapshots with `watchers` (GitHub's watchers_count, the star count) and without the
// repository's archived/fork/language/topics/license; gh_releases without the release's draft/created_at and
// the asset's id/label/digest.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "collect/collect_tables.h"

namespace sluice {

inline std::vector<KeyedTable> CollectTablesBeforeIssue12() {
  std::vector<KeyedTable> old;
  for (KeyedTable t : CollectTables()) {
    std::vector<Field> columns;
    for (Field f : t.columns) {
      static const std::set<std::string> added = {"archived", "fork", "language", "topics", "license", "draft"};
      if (added.count(f.name) || (t.name == "gh_releases" && f.name == "created_at")) continue;
      if (f.name == "assets") {
        FieldType asset = *f.type.element;
        std::erase_if(asset.fields,
                      [](const Field& a) { return a.name == "id" || a.name == "label" || a.name == "digest"; });
        f.type.element = std::make_shared<FieldType>(asset);
      }
      columns.push_back(f);
      if (f.name == "forks") columns.push_back({"watchers", columns.back().type});
    }
    t.columns = columns;
    old.push_back(t);
  }
  return old;
}

}  // namespace sluice
