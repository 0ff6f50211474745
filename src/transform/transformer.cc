#include "transform/transformer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>

#include "core/time.h"
#include "transform/rollup_sql.h"

namespace sluice {

namespace {

// A --from/--to range can name years; beyond this many hours it is surely a typo.
constexpr int64_t kMaxRangeHours = 24 * 366 * 5;
constexpr const char* kRetentionLease = "transform:retention";

// Groups targets linked by reads (union-find over deps); each group's lease is named after its first
// target in dependency order.
std::map<std::string, std::string> GroupLeases(const std::vector<TransformTarget>& order) {
  std::map<std::string, std::string> parent;
  for (const auto& t : order) parent[t.name] = t.name;
  auto find = [&](std::string n) {
    while (parent[n] != n) n = parent[n] = parent[parent[n]];
    return n;
  };
  for (const auto& t : order)
    for (const auto& d : t.deps)
      if (parent.count(d)) parent[find(t.name)] = find(d);
  std::map<std::string, std::string> first_of_root, lease;
  for (const auto& t : order) first_of_root.emplace(find(t.name), t.name);
  for (const auto& t : order) lease[t.name] = "transform:" + first_of_root[find(t.name)];
  return lease;
}

}  // namespace

Result<std::unique_ptr<Transformer>> Transformer::Create(const Config& config) {
  std::unique_ptr<Transformer> t(new Transformer(config));
  ASSIGN_OR_RETURN(t->rollups_, ParseRollups(config));
  ASSIGN_OR_RETURN(t->models_, LoadModels(config.models_dir));
  ASSIGN_OR_RETURN(t->order_, OrderTargets(config, t->rollups_, t->models_));
  t->lease_of_ = GroupLeases(t->order_);
  return t;
}

const RollupConfig* Transformer::FindRollup(const std::string& name) const {
  for (const auto& r : rollups_)
    if (r.name == name) return &r;
  return nullptr;
}

Status Transformer::Prepare(Warehouse& w) {
  RETURN_IF_ERROR(w.PrepareTransforms(config_));
  prepared_ = true;
  return Status::Ok();
}

std::string Transformer::Definition(const SqlDialect& d, const TransformTarget& t) const {
  // Spelled as the build statement sluice has always recorded, so upgrading does not force a rebuild.
  if (t.rollup) return "CREATE OR REPLACE TABLE " + d.Ident(t.name) + " AS " + RollupSelectSql(d, *t.rollup);
  std::string def = "time_column=" + t.model->time_column + "\n" + t.model->sql;
  // A model reading a raw table may use `*`: a field added to the stream changes its output.
  for (const auto& ref : t.model->refs)
    if (const StreamConfig* s = config_.FindStream(ref)) {
      def += "\n-- " + s->name + ":";
      for (const auto& f : s->schema.fields) def += " " + f.name + " " + f.type.SqlType();
    }
  return def;
}

std::string Transformer::Render(const SqlDialect& d, const Model& model, const std::set<int64_t>& hours) const {
  return RenderModel(
      model, [this](const std::string& ref) { return RefTable(config_, ref); }, hours, d);
}

Result<bool> Transformer::HasNewBatches(Warehouse& w) {
  ASSIGN_OR_RETURN(int64_t head, w.LedgerHead());
  return head != last_seq_;
}

int64_t Transformer::RetentionCutoff(const std::set<std::string>& streams) const {
  // Whole days: raw is kept from the start of (today - retention), UTC, matching event_date.
  int64_t today = static_cast<int64_t>(DayOf(NowMicros())) * kMicrosPerDay;
  int64_t cutoff = std::numeric_limits<int64_t>::min();
  for (const auto& name : streams) {
    const StreamConfig* s = config_.FindStream(name);
    if (s && s->retention_us > 0) cutoff = std::max(cutoff, today - s->retention_us / kMicrosPerDay * kMicrosPerDay);
  }
  return cutoff;
}

Result<TransformReport> Transformer::Run(Warehouse& w, const TransformOptions& options) {
  if (!prepared_) RETURN_IF_ERROR(Prepare(w));
  TransformReport report;
  const SqlDialect& d = w.dialect();
  // One snapshot of the ledger for the whole run, so every target absorbs the same batches.
  ASSIGN_OR_RETURN(int64_t max_seq, w.LedgerHead());
  report.to_seq = max_seq;
  ASSIGN_OR_RETURN(auto cursors, w.TransformCursors());

  std::set<int64_t> range;
  if (options.from_us && options.to_us) {
    if (*options.to_us <= *options.from_us) return Status::Invalid("--to must be after --from");
    if ((*options.to_us - *options.from_us) / kMicrosPerHour > kMaxRangeHours)
      return Status::Invalid("--from/--to spans more than " + std::to_string(kMaxRangeHours) + " hours");
    for (int64_t h = HourOf(*options.from_us); h < *options.to_us; h += kMicrosPerHour) range.insert(h);
  }

  std::set<std::string> rebuilt;
  std::map<std::string, bool> held;  // lease -> held by this worker, asked once per run
  auto holds = [&](const std::string& lease) -> Result<bool> {
    if (!options.leases) return true;
    auto it = held.find(lease);
    if (it != held.end()) return it->second;
    ASSIGN_OR_RETURN(bool h, options.leases->Acquire(lease));
    if (!h) ++report.skipped_groups;
    return held[lease] = h;
  };
  for (const auto& t : order_) {
    ASSIGN_OR_RETURN(bool mine, holds(lease_of_.at(t.name)));
    if (!mine) continue;  // another worker transforms this group
    std::string definition = Definition(d, t);
    auto c = cursors.find(t.name);
    ASSIGN_OR_RETURN(bool exists, w.HasTable(t.name));
    const bool same_definition = c != cursors.end() && c->second.definition == definition;
    bool full = options.full_refresh || !exists || !same_definition;
    for (const auto& d : t.deps) full |= rebuilt.count(d) > 0;
    int64_t last = c == cursors.end() ? 0 : c->second.last_seq;
    std::set<int64_t> hours;
    if (full) {
      // An incremental model's template needs the hours even for a full build: all of them.
      if (t.model && !t.model->time_column.empty()) {
        ASSIGN_OR_RETURN(hours, w.TouchedHours(t.streams, -1, max_seq));
      }
      rebuilt.insert(t.name);
    } else {
      if (last >= max_seq && range.empty()) continue;  // nothing new: leave the table and cursor alone
      ASSIGN_OR_RETURN(hours, w.TouchedHours(t.streams, last, max_seq));
      hours.insert(range.begin(), range.end());
      // An hour whose raw rows retention removed would be recomputed from what little is left (a late row):
      // the target keeps what it rolled up before instead.
      int64_t expired = RetentionCutoff(t.streams);
      hours.erase(hours.begin(), hours.lower_bound(expired));
      // A model without a time column cannot be recomputed by hour: rebuild it when its inputs moved.
      if (t.model && t.model->time_column.empty() && !hours.empty()) {
        full = true;
        rebuilt.insert(t.name);
      }
    }
    // A rollup whose table and definition stand can keep its buckets older than the retention cutoff.
    bool keep_expired = exists && same_definition;
    RETURN_IF_ERROR(
        RunTarget(w, t, full, keep_expired, hours, max_seq, definition, options.leases, report).WithContext("transforming " + t.name));
  }
  // Retention runs after the targets absorbed this run's batches, so expired raw rows are already in every
  // rollup; the rollups keep them.
  for (const auto& stream : config_.streams) {
    if (stream.retention_us <= 0) continue;
    ASSIGN_OR_RETURN(bool mine, holds(kRetentionLease));
    if (!mine) break;
    RETURN_IF_ERROR(
        w.DropRawBefore(stream, DayOf(RetentionCutoff({stream.name}))).WithContext("retention of " + stream.name));
  }
  last_seq_ = max_seq;
  return report;
}

Status Transformer::RunTarget(Warehouse& w, const TransformTarget& t, bool full, bool keep_expired,
                              const std::set<int64_t>& hours, int64_t max_seq, const std::string& definition,
                              WorkLeases* leases, TransformReport& report) {
  const SqlDialect& d = w.dialect();
  TargetWrite write;
  int64_t expired = t.rollup ? RetentionCutoff(t.streams) : std::numeric_limits<int64_t>::min();
  if (full && t.rollup && expired != std::numeric_limits<int64_t>::min() && keep_expired) {
    // Raw before the retention cutoff is gone, so a full refresh rebuilds only the retained buckets and
    // keeps what was rolled up before (the cutoff is a day boundary, so hour and day buckets align).
    write.kind = TargetWrite::Kind::kRebuildFrom;
    write.keep_before_us = expired;
    write.select_sql = RollupSelectSql(
        d, *t.rollup, d.Ident(t.rollup->stream->event_time_field().name) + " >= " + d.Timestamp(expired));
  } else if (full) {
    if (t.rollup && expired != std::numeric_limits<int64_t>::min())
      spdlog::warn("rollup {}: rebuilt from raw, which retention has cut at {}: older buckets are lost", t.name,
                   FormatIsoMicros(expired));
    if (t.rollup) {
      write = RollupRebuild(d, *t.rollup);
    } else {
      write.kind = TargetWrite::Kind::kRebuild;
      write.select_sql = Render(d, *t.model, hours);
    }
  } else if (t.rollup) {
    write = RollupRecompute(d, *t.rollup, hours);
  } else if (!hours.empty()) {
    write.kind = TargetWrite::Kind::kReplaceBuckets;
    write.buckets = hours;
    write.select_for = [this, &d, &t](const std::set<int64_t>& buckets) { return Render(d, *t.model, buckets); };
  }
  write.table = t.name;
  write.bucket_column = t.rollup ? t.rollup->grain : t.model->time_column;
  write.cursor_seq = max_seq;
  write.definition = definition;
  int64_t t0 = NowMicros();
  // A worker whose lease passed on (paused past the lease timeout, or cut off from ZooKeeper while it
  // computed) must not commit: the new owner redoes this step from the cursor. The engine fences once the rows
  // are computed, right before they become visible, so the time a stale owner could slip through is the
  // commit itself rather than the whole computation.
  if (leases)
    write.fence = [leases, lease = lease_of_.at(t.name), &t] {
      return leases->Fence(lease).WithContext("lease of " + t.name);
    };
  RETURN_IF_ERROR(w.WriteTarget(write));
  if (leases)
    spdlog::info("transform {}: committed through batch {} under {} ({} to {})", t.name, max_seq,
                 lease_of_.at(t.name), t0, NowMicros());
  if (write.kind == TargetWrite::Kind::kCursorOnly) return Status::Ok();
  ++report.tables_changed;
  report.changed[t.name] = TargetChange{full, full ? std::set<int64_t>{} : hours};
  std::string what = full ? "rebuilt" : "recomputed " + std::to_string(hours.size()) + " hour(s)";
  if (!full) report.hours_recomputed += static_cast<int64_t>(hours.size());
  double ms = (NowMicros() - t0) / 1000.0;
  report.lines.push_back(t.name + ": " + what + fmt::format(" in {:.1f} ms", ms));
  spdlog::debug("transform {}: {} in {:.1f} ms", t.name, what, ms);
  return Status::Ok();
}

}  // namespace sluice
