// MartRefresher: keeps each PostgreSQL mart (`marts:`) equal to the rollup or model it mirrors.
//
// A mart has absorbed its source up to a transform cursor: the ledger seq recorded by its newest row in
// `<schema>._sluice_mart_loads` (mart, through_seq, definition digest). A refresh reads the source's cursor
// from the warehouse, takes the event hours the batches after the mart's seq touched (Warehouse::TouchedHours,
// as days for a day rollup) plus those a transform run reports, and in ONE PostgreSQL transaction: takes the
// mart's advisory lock, creates the mart table if missing and adds the columns the source gained, COPYs the
// source's rows of those buckets (read through Warehouse::Query) into a temporary stage, deletes those buckets
// from the mart, inserts the stage, records the load (ON CONFLICT DO NOTHING), and commits. Readers see the
// mart before or after a refresh, never between; a crash before COMMIT leaves the previous state and the next
// refresh redoes the buckets from the ledger. The mart is refreshed whole when it has no load yet, when the
// source's definition changed since its last load (a rebuilt rollup, a column added), when the source has no
// time column, or when asked (--full). Re-running with nothing new changes nothing.
//
// Fault injection for the crash tests: SLUICE_FAULT=mart-before-commit makes a refresh print
// "mart NAME: paused before commit" to stderr and sleep 60 s before COMMIT.
//
// Thread-safety: not thread-safe; the caller serialises it with other use of the warehouse (the transform
// loop's Pipeline::WithWarehouse).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "core/work_leases.h"
#include "marts/mart_config.h"
#include "marts/pg_connection.h"
#include "transform/transformer.h"
#include "warehouse/warehouse.h"

namespace sluice {

struct MartRefreshOptions {
  bool full = false;           // copy every bucket, whatever the ledger says
  TargetChange changed;        // what the transform run just did to the source, beyond the ledger's hours
  WorkLeases* leases = nullptr;  // several workers: fence the source's lease before COMMIT
};

struct MartReport {
  std::string mart;
  bool up_to_date = false;  // nothing to do: the ledger already records this load; nothing was written
  bool full = false;        // every row was replaced
  int64_t through_seq = 0;  // the source's cursor the mart now reflects
  int64_t buckets = 0;      // buckets replaced (incremental refresh)
  int64_t rows = 0;         // rows copied
  double ms = 0;
  // One line for the CLI: "mart ads: 3 bucket(s), 120 row(s) through batch 7 in 12.0 ms".
  std::string Line() const;
};

class MartRefresher {
 public:
  // Parses the marts against `transformer`'s targets: Invalid (file:line:field) when one is wrong. Both must
  // outlive the refresher.
  static Result<std::unique_ptr<MartRefresher>> Create(const Config& config, const Transformer& transformer);

  const std::vector<MartConfig>& marts() const { return marts_; }
  const MartConfig* Find(const std::string& name) const;

  // Refreshes `mart` now (see the class comment). NotFound when its source has no table yet (transform first),
  // Invalid when its url_env is not set, Retry when PostgreSQL cannot be reached or the transaction conflicts,
  // Stale when the source's lease passed to another worker.
  Result<MartReport> Refresh(Warehouse& warehouse, const MartConfig& mart, const MartRefreshOptions& options = {});

  // After a transform run (`report`): refreshes each mart whose source the run changed, and each mart not yet
  // known to be current in this process (at start, or after a failed refresh, retried at most every 5 s).
  // With `leases`, only the marts whose source's lease this worker holds. Logs each refresh; returns the first
  // error (the others are tried all the same).
  Status AfterTransform(Warehouse& warehouse, const TransformReport& report, WorkLeases* leases = nullptr);

 private:
  MartRefresher(const Config& config, const Transformer& transformer) : config_(config), transformer_(transformer) {}
  Result<PgConnection*> Connection(const MartConfig& mart);
  Result<MartReport> RefreshInTransaction(PgConnection& pg, Warehouse& w, const MartConfig& mart,
                                          const MartRefreshOptions& options);

  struct Pending {
    TargetChange changed;     // accumulated since the last successful refresh
    int64_t not_before_us = 0;  // after a failure: the next attempt
  };

  const Config& config_;
  const Transformer& transformer_;
  std::vector<MartConfig> marts_;
  std::map<std::string, std::unique_ptr<PgConnection>> connections_;  // by mart
  std::map<std::string, Pending> pending_;                             // marts not known to be current
};

}  // namespace sluice
