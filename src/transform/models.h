// SQL models (`models/*.sql`) and the dependency order of everything the transformer maintains.
//
// A model file is one SELECT. `{{ ref('x') }}` names another model, a rollup, or a stream (its raw table);
// `{{ touched_hours }}` expands to the hours being recomputed, as TIMESTAMP literals separated by commas
// (write `WHERE hour IN ({{ touched_hours }})`). A first-line comment `-- sluice: time_column=hour` makes the
// model incremental: its rows for the touched hours are deleted and re-inserted; without it the model is
// rebuilt whole on every run that touches its inputs.
// Values; thread-safe to share once built.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "transform/rollup_config.h"
#include "warehouse/sql_dialect.h"

namespace sluice {

struct Model {
  std::string name;         // the file name without .sql; also the table's name
  std::string file;         // for messages
  std::string sql;          // the template, as written
  std::string time_column;  // empty: rebuilt whole
  std::vector<std::string> refs;  // names in ref(), in order of appearance, without duplicates
};

// Parses one model from its text. Invalid on a malformed `-- sluice:` header or an empty body.
Result<Model> ParseModel(const std::string& name, const std::string& file, const std::string& text);
// Reads every *.sql in `dir` (sorted by name). An empty `dir` means no models.
Result<std::vector<Model>> LoadModels(const std::string& dir);

// Expands the template: ref(x) through `table_of`, touched_hours to `hours` (hour starts) as timestamp
// literals of `dialect` (an empty set expands to its typed NULL, which matches nothing).
std::string RenderModel(const Model& model, const std::function<std::string(const std::string&)>& table_of,
                        const std::set<int64_t>& hours, const SqlDialect& dialect);

// One table the transformer maintains: a rollup or a model, with what it reads.
struct TransformTarget {
  std::string name;
  const RollupConfig* rollup = nullptr;  // exactly one of rollup/model is set
  const Model* model = nullptr;
  std::vector<std::string> deps;  // targets it reads (rollups and models)
  std::set<std::string> streams;  // streams it depends on, directly or through deps
};

// Orders rollups and models so every target comes after what it reads. Invalid when a ref names nothing
// ("model b: ref('x') is not a model, rollup or stream (a -> b -> x)") or when refs form a cycle
// ("model cycle: a -> b -> a"), or a model and a rollup share a name. `rollups` and `models` must outlive
// the result.
Result<std::vector<TransformTarget>> OrderTargets(const Config& config, const std::vector<RollupConfig>& rollups,
                                                  const std::vector<Model>& models);

// The table a ref resolves to: a target's own name, or raw_<stream> for a stream.
std::string RefTable(const Config& config, const std::string& name);

}  // namespace sluice
