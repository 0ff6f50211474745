// Transformer: keeps rollups and SQL models up to date with raw, incrementally by event hour.
//
// Each target (rollup or model) has a cursor (Warehouse::TransformCursors): the last ledger sequence number
// it has absorbed. A run takes the batches past the cursor, unions the event hours they touched in the
// target's streams, and recomputes exactly those hours in dependency order (Warehouse::WriteTarget: the rows
// and the cursor move together). A crash anywhere leaves every target either before or after its step, so
// the next run redoes what is missing, and a run with nothing new changes nothing (DESIGN.md semantics 3). A target
// whose definition changed (its SQL, or the schema of a stream a model reads) or whose table is missing is rebuilt
// whole, and so are the targets that read it (semantics 4).
//
// Also has the warehouse maintain the views `_sluice_watermarks(stream, max_event_time, watermark,
// late_rows)` and `_sluice_hours(stream, hour, rows, final)`: an hour is final once hour + 1h <= the stream's watermark
// (max event time loaded minus allowed_lateness). Late rows are loaded and re-rolled like any others.
//
// Several workers (WorkLeases): targets that read one another form a group, and each group is one lease
// "transform:<first target of the group>", so a target and what it reads are always transformed in order,
// by one worker at a time, while independent rollups may spread over workers. Run only transforms the groups
// this worker holds and fences each commit; retention runs under the lease "transform:retention".
//
// Thread-safety: not thread-safe; the caller serialises Run with other warehouse use (Pipeline::WithWarehouse).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/work_leases.h"
#include "transform/models.h"
#include "transform/rollup_config.h"
#include "warehouse/warehouse.h"

namespace sluice {

struct TransformOptions {
  bool full_refresh = false;       // rebuild every target from raw
  std::optional<int64_t> from_us;  // with to_us: also recompute the hours in [from, to)
  std::optional<int64_t> to_us;
  WorkLeases* leases = nullptr;  // several workers: transform only the groups held (null: all of them)
};

// What one run did to one target (TransformReport::changed), for what mirrors it (marts).
struct TargetChange {
  bool rebuilt = false;     // rebuilt whole
  std::set<int64_t> hours;  // otherwise: the event hours recomputed (hour starts, micros)
};

struct TransformReport {
  int64_t to_seq = 0;              // batches up to this seq are now absorbed by every target
  int tables_changed = 0;          // targets rebuilt or recomputed
  int64_t hours_recomputed = 0;    // distinct hours recomputed incrementally, summed over targets
  std::vector<std::string> lines;  // one per changed target, for the CLI
  int skipped_groups = 0;          // target groups another worker holds (WorkLeases)
  std::map<std::string, TargetChange> changed;  // per target rebuilt or recomputed (not cursor-only moves)
};

class Transformer {
 public:
  // Parses the rollups, reads the models and orders them. Invalid (naming file:line:field, or the ref
  // chain) when any is wrong: this is the "error at start". `config` must outlive the Transformer.
  static Result<std::unique_ptr<Transformer>> Create(const Config& config);

  // Creates the cursor table and the watermark views. Run calls it once if the caller did not.
  Status Prepare(Warehouse& warehouse);

  // Brings every target up to date with the batches loaded so far (see the class comment).
  Result<TransformReport> Run(Warehouse& warehouse, const TransformOptions& options = {});

  // Whether batches were loaded since the last Run of this Transformer (cheap; for debouncing).
  Result<bool> HasNewBatches(Warehouse& warehouse);

  const std::vector<TransformTarget>& targets() const { return order_; }
  // The lease that covers `target`'s group ("transform:<name>").
  const std::string& LeaseOf(const std::string& target) const { return lease_of_.at(target); }
  const RollupConfig* FindRollup(const std::string& name) const;

 private:
  explicit Transformer(const Config& config) : config_(config) {}
  // What a target's table is built from; a change forces a rebuild.
  std::string Definition(const SqlDialect& dialect, const TransformTarget& target) const;
  // Start (micros) of the first day whose raw rows retention keeps in every one of `streams`; INT64_MIN
  // when none has a retention.
  int64_t RetentionCutoff(const std::set<std::string>& streams) const;
  std::string Render(const SqlDialect& dialect, const Model& model, const std::set<int64_t>& hours) const;
  Status RunTarget(Warehouse& w, const TransformTarget& t, bool full, bool keep_expired, const std::set<int64_t>& hours,
                   int64_t max_seq, const std::string& definition, WorkLeases* leases, TransformReport& report);

  const Config& config_;
  std::vector<RollupConfig> rollups_;
  std::vector<Model> models_;
  std::vector<TransformTarget> order_;
  std::map<std::string, std::string> lease_of_;  // target -> the lease of its group
  bool prepared_ = false;
  int64_t last_seq_ = -1;  // max seq seen by the last successful Run
};

}  // namespace sluice
