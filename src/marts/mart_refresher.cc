#include "marts/mart_refresher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/time.h"
#include "marts/mart_sql.h"

namespace sluice {

namespace {

// Buckets per warehouse query: keeps each IN list short.
constexpr size_t kBucketsPerQuery = 500;
// After a failed refresh, the runtime tries the mart again no sooner than this.
constexpr int64_t kRetryAfterUs = 5'000'000;

// The crash tests' hook (see the header): pauses a refresh before COMMIT, long enough to be killed.
void MaybePauseBeforeCommit(const MartConfig& mart) {
  const char* fault = std::getenv("SLUICE_FAULT");
  if (!fault || std::strcmp(fault, "mart-before-commit") != 0) return;
  std::fprintf(stderr, "mart %s: paused before commit\n", mart.name.c_str());
  std::fflush(stderr);
  std::this_thread::sleep_for(std::chrono::seconds(60));
}

}  // namespace

std::string MartReport::Line() const {
  if (up_to_date) return fmt::format("mart {}: up to date through batch {}", mart, through_seq);
  return fmt::format("mart {}: {} {} row(s) through batch {} in {:.1f} ms", mart,
                     full ? std::string("replaced by") : fmt::format("{} bucket(s) replaced by", buckets), rows,
                     through_seq, ms);
}

Result<std::unique_ptr<MartRefresher>> MartRefresher::Create(const Config& config, const Transformer& transformer) {
  std::unique_ptr<MartRefresher> r(new MartRefresher(config, transformer));
  ASSIGN_OR_RETURN(r->marts_, ParseMarts(config, transformer.targets()));
  // Each mart is checked once after start: a refresh cut short by a crash is completed then.
  for (const auto& m : r->marts_) r->pending_[m.name];
  return r;
}

const MartConfig* MartRefresher::Find(const std::string& name) const {
  for (const auto& m : marts_)
    if (m.name == name) return &m;
  return nullptr;
}

Result<PgConnection*> MartRefresher::Connection(const MartConfig& mart) {
  auto it = connections_.find(mart.name);
  if (it != connections_.end() && it->second->ok()) return it->second.get();
  const char* url = std::getenv(mart.url_env.c_str());
  if (!url || !*url)
    return Status::Invalid("marts." + mart.name + ".postgres.url_env: environment variable " + mart.url_env +
                           " is not set");
  ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> pg, PgConnection::Connect(url));
  RETURN_IF_ERROR(pg->Execute("SET application_name = 'sluice'"));
  PgConnection* raw = pg.get();
  connections_[mart.name] = std::move(pg);
  return raw;
}

Result<MartReport> MartRefresher::Refresh(Warehouse& w, const MartConfig& mart, const MartRefreshOptions& options) {
  ASSIGN_OR_RETURN(PgConnection * pg, Connection(mart));
  Status begun = pg->Execute("BEGIN ISOLATION LEVEL READ COMMITTED");
  auto report = begun.ok() ? RefreshInTransaction(*pg, w, mart, options) : Result<MartReport>(begun);
  if (!report.ok()) {
    // Nothing of this refresh is visible; the next one starts again from the ledger.
    (void)pg->Execute("ROLLBACK");
    if (!pg->ok()) connections_.erase(mart.name);
    return report.status().WithContext("mart " + mart.name);
  }
  return report;
}

Result<MartReport> MartRefresher::RefreshInTransaction(PgConnection& pg, Warehouse& w, const MartConfig& mart,
                                                       const MartRefreshOptions& options) {
  const int64_t t0 = NowMicros();
  MartReport r;
  r.mart = mart.name;
  const TransformTarget* target = nullptr;
  for (const auto& t : transformer_.targets())
    if (t.name == mart.from) target = &t;
  if (!target) return Status::Internal("no target " + mart.from);
  ASSIGN_OR_RETURN(auto cursors, w.TransformCursors());
  auto cursor = cursors.find(mart.from);
  ASSIGN_OR_RETURN(bool source_exists, w.HasTable(mart.from));
  if (cursor == cursors.end() || !source_exists)
    return Status::NotFound("its source " + mart.from + " has not been transformed yet");
  r.through_seq = cursor->second.last_seq;
  const std::string digest = DefinitionDigest(cursor->second.definition);

  // Timestamps without an offset (DuckDB's TIMESTAMP) are UTC, as in the warehouse.
  RETURN_IF_ERROR(pg.Execute("SET LOCAL TimeZone = 'UTC'"));
  RETURN_IF_ERROR(pg.Execute(LockMartSql(mart)));
  RETURN_IF_ERROR(pg.Execute(CreateLoadsSql(mart)));
  ASSIGN_OR_RETURN(PgResult last, pg.Query(LastLoadSql(mart), {mart.name}));
  const bool has_last = !last.rows.empty() && last.rows[0][0] && last.rows[0][1];
  const int64_t last_seq = has_last ? std::stoll(*last.rows[0][0]) : 0;
  const bool same_definition = has_last && *last.rows[0][1] == digest;
  ASSIGN_OR_RETURN(PgResult existing, pg.Query(MartColumnsSql(), {mart.schema, mart.table}));
  const bool table_exists = !existing.rows.empty();

  const bool forced = options.full || options.changed.rebuilt || !options.changed.hours.empty();
  if (has_last && same_definition && table_exists && last_seq >= r.through_seq && !forced) {
    RETURN_IF_ERROR(pg.Execute("ROLLBACK"));
    r.up_to_date = true;
    return r;
  }
  r.full = options.full || options.changed.rebuilt || !has_last || !same_definition || !table_exists;
  std::set<int64_t> buckets;
  if (!r.full) {
    ASSIGN_OR_RETURN(std::set<int64_t> hours, w.TouchedHours(target->streams, last_seq, r.through_seq));
    hours.insert(options.changed.hours.begin(), options.changed.hours.end());
    if (mart.bucket.empty()) {
      r.full = !hours.empty();  // no time column: the source was rebuilt whole when its inputs moved
    } else {
      for (int64_t h : hours) buckets.insert(mart.day_buckets ? int64_t{DayOf(h)} * kMicrosPerDay : h);
    }
  }

  // The source's rows of those buckets, as COPY text.
  const SqlDialect& d = w.dialect();
  std::vector<std::string> queries;
  const std::string select = "SELECT * FROM " + d.Ident(mart.from);
  if (r.full) {
    queries.push_back(select);
  } else {
    std::string in;
    size_t n = 0;
    for (int64_t b : buckets) {
      in += (in.empty() ? "" : ", ") + d.Timestamp(b);
      if (++n % kBucketsPerQuery == 0 || n == buckets.size()) {
        queries.push_back(select + " WHERE " + d.Ident(mart.bucket) + " IN (" + in + ")");
        in.clear();
      }
    }
  }
  std::vector<std::string> columns, pg_types;
  std::string data;
  for (const auto& sql : queries) {
    ASSIGN_OR_RETURN(QueryResult rows, w.Query(sql));
    if (columns.empty()) {
      columns = rows.columns;
      for (const auto& t : rows.types) pg_types.push_back(PgTypeFor(t));
    }
    for (const auto& row : rows.rows) AppendCopyRow(row, pg_types, data);
    r.rows += static_cast<int64_t>(rows.rows.size());
  }
  r.buckets = static_cast<int64_t>(buckets.size());

  if (!queries.empty()) {
    std::vector<std::pair<std::string, std::string>> typed;
    for (size_t i = 0; i < columns.size(); ++i) typed.emplace_back(columns[i], pg_types[i]);
    RETURN_IF_ERROR(pg.Execute(CreateMartSql(mart, typed)));
    std::set<std::string> have;
    for (const auto& row : existing.rows)
      if (row[0]) have.insert(*row[0]);
    // Columns the source gained since (a measure or dimension added) join the mart; none is ever dropped.
    if (table_exists)
      for (size_t i = 0; i < columns.size(); ++i)
        if (!have.count(columns[i])) {
          RETURN_IF_ERROR(pg.Execute(AddColumnSql(mart, columns[i], pg_types[i])));
          spdlog::info("mart {}: added column {} {}", mart.name, columns[i], pg_types[i]);
        }
    RETURN_IF_ERROR(pg.Execute(CreateStageSql(mart)));
    ASSIGN_OR_RETURN(int64_t copied, pg.CopyIn(CopyStageSql(mart, columns), data));
    if (copied != r.rows)
      return Status::Internal(fmt::format("COPY took {} of {} rows", copied, r.rows));
    if (r.full) {
      RETURN_IF_ERROR(pg.Query(DeleteBucketsSql(mart, true)).status());
    } else {
      RETURN_IF_ERROR(pg.Query(DeleteBucketsSql(mart, false), {BucketArray(buckets)}).status());
    }
    RETURN_IF_ERROR(pg.Execute(InsertFromStageSql(mart, columns)));
  }
  RETURN_IF_ERROR(pg.Query(RecordLoadSql(mart), {mart.name, std::to_string(r.through_seq), digest,
                                                 r.full ? "true" : "false", std::to_string(r.buckets),
                                                 std::to_string(r.rows)})
                      .status());
  MaybePauseBeforeCommit(mart);
  // A worker whose lease on the source passed on must not commit: the new owner refreshes from the ledger.
  if (options.leases)
    RETURN_IF_ERROR(options.leases->Fence(transformer_.LeaseOf(mart.from)).WithContext("lease of " + mart.from));
  RETURN_IF_ERROR(pg.Execute("COMMIT"));
  r.ms = (NowMicros() - t0) / 1000.0;
  return r;
}

Status MartRefresher::AfterTransform(Warehouse& w, const TransformReport& report, WorkLeases* leases) {
  for (const auto& m : marts_) {
    auto changed = report.changed.find(m.from);
    if (changed == report.changed.end()) continue;
    Pending& p = pending_[m.name];
    p.changed.rebuilt |= changed->second.rebuilt;
    p.changed.hours.insert(changed->second.hours.begin(), changed->second.hours.end());
    p.not_before_us = 0;
  }
  Status first;
  const int64_t now = NowMicros();
  for (const auto& m : marts_) {
    auto it = pending_.find(m.name);
    if (it == pending_.end() || now < it->second.not_before_us) continue;
    if (leases) {
      ASSIGN_OR_RETURN(bool mine, leases->Acquire(transformer_.LeaseOf(m.from)));
      if (!mine) continue;  // the worker transforming the source refreshes its marts
    }
    MartRefreshOptions options;
    options.changed = it->second.changed;
    options.leases = leases;
    auto r = Refresh(w, m, options);
    if (r.ok()) {
      if (!r->up_to_date) spdlog::info("{}", r->Line());
      pending_.erase(it);
    } else if (r.status().IsNotFound()) {
      pending_.erase(it);  // its source is not built yet: the transform that builds it reports it
    } else {
      it->second.not_before_us = now + kRetryAfterUs;
      if (first.ok()) first = r.status();
    }
  }
  return first;
}

}  // namespace sluice
