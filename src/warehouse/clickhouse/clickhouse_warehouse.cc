#include "warehouse/clickhouse/clickhouse_warehouse.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "core/time.h"
#include "landing/landing_reader.h"
#include "warehouse/clickhouse/clickhouse_readers.h"
#include "warehouse/clickhouse/clickhouse_rows.h"

namespace sluice {
namespace {

constexpr int kInsertAttempts = 6;
constexpr std::chrono::milliseconds kFirstBackoff{200};
// How long a previous attempt's insert may still run on the server before recovery gives up (Retry).
constexpr std::chrono::seconds kWaitNotRunning{60};

// The value of the environment variable `name` names; Invalid when it is unset or empty.
Result<std::string> FromEnv(const std::string& name, const std::string& key) {
  const char* v = std::getenv(name.c_str());
  if (!v || !*v)
    return Status::Invalid("warehouse." + key + " names the environment variable " + name +
                           ", which is not set or empty");
  return std::string(v);
}

std::string Int(int64_t v) { return std::to_string(v); }

// A query id of one step of a batch's load: the same on every attempt, so the server refuses an attempt
// while an earlier one still runs (QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING) and recovery can wait for it.
std::string QueryIdPrefix(const Batch& batch) { return "sluice:" + batch.stream().name + ":" + batch.id + ":"; }

// "'2026-11-01', '2026-11-02'": the event days a batch's rows fall on, to prune partitions.
std::string DayList(const BlockPlan& plan) {
  std::set<int32_t> days;
  for (const auto& b : plan.blocks) days.insert(b.event_date);
  std::string out;
  for (int32_t d : days) out += (out.empty() ? "" : ", ") + ChLiteral(FormatIsoDate(d));
  return out;
}

// Headers as [[name, value], ...] JSON, as the DuckDB table keeps them.
std::string HeadersJson(const std::vector<std::pair<std::string, std::string>>& headers) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [name, value] : headers) j.push_back({name, value});
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::pair<std::string, std::string>> ParseHeadersJson(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_array())
    for (const auto& h : j)
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
        out.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  return out;
}

// A random writer id for ClickHouseDialect::StagingTable: 8 hex digits.
std::string NewWriterId() {
  std::random_device random;
  return fmt::format("{:08x}", static_cast<uint32_t>(random()));
}

}  // namespace

ClickHouseWarehouse::ClickHouseWarehouse(Options options) : options_(std::move(options)), writer_id_(NewWriterId()) {
  options_.server.database = options_.target.database;
  client_ = std::make_unique<ClickHouseClient>(options_.server);
}

Result<std::unique_ptr<ClickHouseWarehouse>> ClickHouseWarehouse::Open(const Config& config) {
  Options o;
  o.server.url = config.warehouse_url;
  o.target.database = config.warehouse_database;
  o.target.cluster = config.warehouse_cluster;
  if (!config.warehouse_user_env.empty()) {
    ASSIGN_OR_RETURN(o.server.user, FromEnv(config.warehouse_user_env, "user_env"));
  }
  if (!config.warehouse_password_env.empty()) {
    ASSIGN_OR_RETURN(o.server.password, FromEnv(config.warehouse_password_env, "password_env"));
  }
  if (!config.warehouse_reader_user_env.empty()) {
    ASSIGN_OR_RETURN(o.reader_user, FromEnv(config.warehouse_reader_user_env, "reader_user_env"));
  }
  if (!config.warehouse_reader_password_env.empty()) {
    ASSIGN_OR_RETURN(o.reader_password, FromEnv(config.warehouse_reader_password_env, "reader_password_env"));
  }
  return Open(std::move(o));
}

Result<std::unique_ptr<ClickHouseWarehouse>> ClickHouseWarehouse::Open(Options options) {
  std::unique_ptr<ClickHouseWarehouse> w(new ClickHouseWarehouse(std::move(options)));
  // The database may not exist yet: these requests name it in full instead of as the default.
  ClickHouseOptions bootstrap = w->options_.server;
  bootstrap.database.clear();
  ClickHouseClient boot(bootstrap);
  ASSIGN_OR_RETURN(auto version, boot.Query("SELECT version()"));
  w->version_ = version.Scalar();
  RETURN_IF_ERROR(
      w->CreateMissing(boot, SystemTablesDdl(w->options_.target)).WithContext("creating sluice's system tables"));
  RETURN_IF_ERROR(w->AddMissingSystemColumns(boot).WithContext("evolving sluice's system tables"));
  return w;
}

Status ClickHouseWarehouse::CreateMissing(const ClickHouseClient& client, const std::vector<CreateDdl>& ddl) {
  // ON CLUSTER statements go through ZooKeeper's DDL queue and take about a second each even when there
  // is nothing to create, so only what this server lacks is sent (every server gets it).
  const ClickHouseTarget& t = options_.target;
  ASSIGN_OR_RETURN(auto have, client.Query("SELECT name FROM system.tables WHERE database = " + ChLiteral(t.database) +
                                           " UNION ALL SELECT '' FROM system.databases "
                                           "WHERE name = " +
                                           ChLiteral(t.database)));
  std::set<std::string> existing;
  for (const auto& row : have.rows) existing.insert(row[0].value_or(""));
  for (const auto& d : ddl)
    if (!existing.count(d.table)) RETURN_IF_ERROR(client.Execute(d.sql));
  return Status::Ok();
}

Status ClickHouseWarehouse::AddMissingSystemColumns(const ClickHouseClient& client) {
  // 18.16 has no ADD COLUMN IF NOT EXISTS: look at system.columns first. A column another worker added a
  // moment ago makes the ALTER fail with "already exists", which is what was wanted.
  const ClickHouseTarget& t = options_.target;
  for (const SystemColumn& c : SystemColumnsAdded()) {
    ASSIGN_OR_RETURN(auto have, client.Query("SELECT count() FROM system.columns WHERE database = " +
                                             ChLiteral(t.database) + " AND table = " + ChLiteral(c.table) +
                                             " AND name = " + ChLiteral(c.name)));
    if (have.Scalar() != "0") continue;
    Status st = client.Execute(AddSystemColumnDdl(t, c));
    if (!st.ok() && st.message().find("already exists") == std::string::npos) return st;
  }
  return Status::Ok();
}

Result<std::shared_ptr<Readers>> ClickHouseWarehouse::OpenReaders(size_t connections) {
  if (options_.reader_user.empty())
    return Status::Invalid(
        "ClickHouse readers need their own user, whose users.xml profile sets readonly = 1: name it with "
        "warehouse.reader_user_env (and reader_password_env)");
  ClickHouseOptions reader = options_.server;
  reader.user = options_.reader_user;
  reader.password = options_.reader_password;
  ASSIGN_OR_RETURN(auto readers, ClickHouseReaders::Open(reader, options_.server, connections));
  return std::shared_ptr<Readers>(std::move(readers));
}

// ---- Tables ----

Status ClickHouseWarehouse::Prepare(const Config& config) {
  for (const auto& s : config.streams) RETURN_IF_ERROR(PrepareRawTable(s).WithContext("raw table of " + s.name));
  return Status::Ok();
}

Status ClickHouseWarehouse::PrepareRawTable(const StreamConfig& s) {
  const ClickHouseTarget& t = options_.target;
  RawTable table;
  table.local = LocalRawTable(t, s);
  // A table made before issue 13 keeps its layout (provenance strings on every row) and is filled as it is.
  ASSIGN_OR_RETURN(auto old,
                   client_->Query("SELECT count() FROM system.columns WHERE database = " + ChLiteral(t.database) +
                                  " AND table = " + ChLiteral(table.local) + " AND name = '_batch_id'"));
  table.string_provenance = old.Scalar() != "0";
  RETURN_IF_ERROR(CreateMissing(*client_, RawTableDdl(t, s, table.string_provenance)));
  if (table.string_provenance)
    spdlog::warn(
        "stream {}: {} keeps raw's layout from before issue 13 (_batch_id, _source, _partition on every "
        "row), which loads slower; README, \"Warehouses\", says how to move it",
        s.name, table.local);
  const std::vector<RawColumn> wanted = RawColumnsFor(s, table.string_provenance);
  table.insert_into = ChTable(t, s.raw_table());
  // The local table first, then (on a cluster) the Distributed one: inserts name the Distributed table's
  // columns, which must match the local tables'.
  std::vector<std::string> tables = {table.local};
  if (t.clustered()) tables.push_back(s.raw_table());
  for (const auto& name : tables) {
    auto columns = [&]() {
      return client_->Query("SELECT name, type FROM system.columns WHERE database = " + ChLiteral(t.database) +
                            " AND table = " + ChLiteral(name));
    };
    ASSIGN_OR_RETURN(QueryResult have, columns());
    std::map<std::string, std::string> types;
    for (const auto& row : have.rows) types[row[0].value_or("")] = row[1].value_or("");
    for (const auto& c : wanted) {
      auto it = types.find(c.name);
      if (it != types.end()) {
        if (it->second != c.type)
          return Status::Invalid("column " + c.name + " of " + name + " is " + it->second +
                                 " but the config makes it " + c.type +
                                 ": a raw column cannot change type (add a field under a new name)");
        continue;
      }
      if (name != table.local) {
        // The Distributed table holds no data: it is recreated over the evolved local tables. 18.16 refuses
        // ALTER ... ON CLUSTER on it when the cluster's shards are replicated ("isn't replicated, but shard
        // is replicated"), while DROP and CREATE ... ON CLUSTER run on every server.
        spdlog::info("stream {}: recreating {} over the evolved {}", s.name, name, table.local);
        RETURN_IF_ERROR(client_->Execute("DROP TABLE IF EXISTS " + ChTable(t, name) + " ON CLUSTER " + t.cluster));
        RETURN_IF_ERROR(CreateMissing(*client_, RawTableDdl(t, s, table.string_provenance)));
        break;
      }
      // Schema evolution. 18.16 has no ADD COLUMN IF NOT EXISTS, hence the look at system.columns first; a
      // concurrent sluice may still win the race, which "already exists" tells.
      spdlog::info("stream {}: adding column {} {} to {}", s.name, c.name, c.type, name);
      const std::string ddl = "ALTER TABLE " + ChTable(t, name) + (t.clustered() ? " ON CLUSTER " + t.cluster : "") +
                              " ADD COLUMN " + ChIdent(c.name) + " " + c.type;
      Status st = client_->Execute(ddl);
      if (!st.ok() && st.message().find("already exists") == std::string::npos) return st;
    }
    if (name != table.local) continue;
    ASSIGN_OR_RETURN(have, columns());
    for (const auto& row : have.rows) {
      RawColumn c{row[0].value_or(""), row[1].value_or("")};
      for (const auto& w : wanted)
        if (w.name == c.name) c = w;
      table.columns.push_back(std::move(c));  // a column whose field left the config gets its type's default
    }
  }
  table.format = FormatFor(table.columns);
  RETURN_IF_ERROR(PrepareOriginView(s, table).WithContext("origin view " + s.origin_view()));
  raw_[s.name] = std::move(table);
  return Status::Ok();
}

Status ClickHouseWarehouse::PrepareOriginView(const StreamConfig& s, const RawTable& table) {
  const ClickHouseTarget& t = options_.target;
  ASSIGN_OR_RETURN(auto have, client_->Query("SELECT name FROM system.columns WHERE database = " +
                                             ChLiteral(t.database) + " AND table = " + ChLiteral(s.origin_view())));
  std::vector<std::string> names;
  for (const auto& row : have.rows) names.push_back(row[0].value_or(""));
  if (names == OriginViewColumns(table.columns, table.string_provenance)) return Status::Ok();
  // A view's columns are fixed when it is made: raw gained a column, so the view is made again.
  if (!names.empty())
    RETURN_IF_ERROR(client_->Execute("DROP TABLE IF EXISTS " + ChTable(t, s.origin_view()) + OnClusterClause(t)));
  Status st = client_->Execute(OriginViewDdl(t, s, table.columns, table.string_provenance));
  if (!st.ok() && st.message().find("already exists") == std::string::npos) return st;
  return Status::Ok();
}

// ---- Ledger and checkpoints ----

Result<std::optional<int64_t>> ClickHouseWarehouse::NewestEventTime(const std::string& stream) {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT max(max_event_us) FROM _sluice_batches WHERE stream = " +
                                          ChLiteral(stream) + " AND max_event_us IS NOT NULL"));
  if (r.rows.empty() || !r.rows[0][0] || r.rows[0][0]->empty()) return std::optional<int64_t>();
  return std::optional<int64_t>(std::stoll(*r.rows[0][0]));
}

Result<std::map<std::string, int64_t>> ClickHouseWarehouse::Checkpoints(const std::string& source) {
  // No FINAL: every copy of a batch's ledger row carries the same ranges, so max() is the same without it.
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT p, max(n) FROM _sluice_batches ARRAY JOIN part_names AS p, "
                                          "part_next AS n WHERE source = " +
                                          ChLiteral(source) + " GROUP BY p"));
  std::map<std::string, int64_t> out;
  for (const auto& row : r.rows) out[row[0].value_or("")] = std::stoll(row[1].value_or("0"));
  return out;
}

Result<std::map<std::string, PartitionRange>> ClickHouseWarehouse::LedgerRanges(const Batch& batch) {
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT p, f, n, c FROM _sluice_batches ARRAY JOIN part_names AS p, "
                                          "part_first AS f, part_next AS n, part_records AS c WHERE stream = " +
                                          ChLiteral(batch.stream().name) + " AND source = " + ChLiteral(batch.source) +
                                          " AND batch_id = " + ChLiteral(batch.id)));
  std::map<std::string, PartitionRange> out;
  for (const auto& row : r.rows)
    out[row[0].value_or("")] = {std::stoll(row[1].value_or("0")), std::stoll(row[2].value_or("0")),
                                std::stoll(row[3].value_or("0"))};
  return out;
}

Result<bool> ClickHouseWarehouse::StillCurrent(const Batch& batch) {
  ASSIGN_OR_RETURN(auto committed, Checkpoints(batch.source));
  for (const auto& [partition, range] : batch.ranges) {
    auto it = committed.find(partition);
    // Gaps are fine (blank lines, Kafka transaction markers); going back is not: those records are loaded.
    if (it != committed.end() && it->second > range.first) return false;
  }
  return true;
}

Result<bool> ClickHouseWarehouse::OverlapsLoaded(const Batch& batch) {
  if (batch.ranges.empty()) return false;
  std::string cond;
  for (const auto& [p, r] : batch.ranges)
    cond += (cond.empty() ? "" : " OR ") + std::string("(p = ") + ChLiteral(p) + " AND f < " + Int(r.next) +
            " AND n > " + Int(r.first) + ")";
  ASSIGN_OR_RETURN(auto r, client_->Query("SELECT count() FROM _sluice_batches ARRAY JOIN part_names AS p, "
                                          "part_first AS f, part_next AS n WHERE source = " +
                                          ChLiteral(batch.source) + " AND (" + cond + ")"));
  return r.Scalar() != "0";
}

// ---- Loading ----

Result<LoadOutcome> ClickHouseWarehouse::LoadBatch(const Batch& batch, const std::string& landed_file) {
  return Load(batch, landed_file, Mode::kLive);
}

Result<LoadOutcome> ClickHouseWarehouse::ReplayBatch(const Batch& batch, const std::string& landed_file) {
  return Load(batch, landed_file, Mode::kReplay);
}

Result<LoadOutcome> ClickHouseWarehouse::Load(const Batch& batch, const std::string& landed_file, Mode mode) {
  auto table = raw_.find(batch.stream().name);
  if (table == raw_.end()) return Status::Internal("raw table of " + batch.stream().name + " was not prepared");
  ASSIGN_OR_RETURN(auto seen, LedgerRanges(batch));
  if (!seen.empty()) {
    // A replay of a batch already loaded (same id, same ranges), or the same first position cut
    // differently: its records are committed and the source must re-read from the checkpoint.
    bool same = seen.size() == batch.ranges.size();
    for (const auto& [p, r] : batch.ranges) {
      auto it = seen.find(p);
      same = same && it != seen.end() && it->second.first == r.first && it->second.next == r.next &&
             it->second.records == r.records;
    }
    return same || mode == Mode::kReplay ? LoadOutcome::kDuplicate : LoadOutcome::kStale;
  }
  if (mode == Mode::kReplay) {
    // Landing keeps batches refused as stale too: one overlapping a loaded batch would load records twice.
    ASSIGN_OR_RETURN(bool overlaps, OverlapsLoaded(batch));
    if (overlaps) return LoadOutcome::kStale;
  } else {
    // The fence. Without transactions it is a check before the writes, not a lock: two loaders of one
    // partition at once (a Kafka rebalance mid-batch) could both pass it; the group protocol prevents that.
    ASSIGN_OR_RETURN(bool current, StillCurrent(batch));
    if (!current) return LoadOutcome::kStale;
  }
  // One server keeps no dedup hashes: a recovered batch counts what arrived before sending the rest.
  const bool check_first = mode == Mode::kRecovery && !options_.target.clustered();
  const int64_t t0 = NowMicros();
  RETURN_IF_ERROR(SendRows(batch, table->second, check_first).WithContext("loading batch " + batch.id));
  const int64_t t1 = NowMicros();
  RETURN_IF_ERROR(SendDeadLetters(batch, check_first).WithContext("dead letters of batch " + batch.id));
  RETURN_IF_ERROR(Fault("ledger"));
  RETURN_IF_ERROR(WriteLedgerRow(batch, landed_file).WithContext("ledger row of batch " + batch.id));
  spdlog::debug("batch {}: rows in {} ms, dead letters and ledger in {} ms", batch.id, (t1 - t0) / 1000,
                (NowMicros() - t1) / 1000);
  return LoadOutcome::kLoaded;
}

Status ClickHouseWarehouse::WaitNotRunning(const std::string& prefix) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitNotRunning;
  while (true) {
    ASSIGN_OR_RETURN(auto r, client_->Query("SELECT count() FROM system.processes WHERE startsWith(query_id, " +
                                            ChLiteral(prefix) + ")"));
    if (r.Scalar() == "0") return Status::Ok();
    if (std::chrono::steady_clock::now() > deadline)
      return Status::Retry("an earlier insert (" + prefix + "*) still runs on the server");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status ClickHouseWarehouse::InsertWithRetries(const std::string& sql, std::string_view data,
                                              const std::string& query_id,
                                              const std::function<Result<bool>()>& landed) {
  ClickHouseSettings settings = {
      {"query_id", query_id}, {"max_insert_block_size", std::to_string(kMaxBlockRows)}, {"insert_deduplicate", "1"}};
  if (options_.target.clustered()) settings.push_back({"insert_distributed_sync", "1"});
  auto backoff = kFirstBackoff;
  for (int attempt = 1;; ++attempt) {
    Status st = client_->Insert(sql, data, settings);
    if (st.ok()) return st;
    // TimedOut and Retry both leave the insert's fate unknown; anything else is an answer (refused data).
    if (!st.IsRetry() && !st.IsTimedOut()) return st;
    if (attempt == kInsertAttempts) return Status::Retry(st.message());
    spdlog::warn("{} (attempt {} of {}, retrying in {} ms)", st.message(), attempt, kInsertAttempts, backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
    if (landed) {
      // One server: re-sending a block that arrived would duplicate it; ask first.
      RETURN_IF_ERROR(WaitNotRunning(query_id));
      ASSIGN_OR_RETURN(bool in, landed());
      if (in) return Status::Ok();
    }
  }
}

Status ClickHouseWarehouse::SendRows(const Batch& batch, const RawTable& table, bool check_first) {
  if (batch.rows() == 0) return Status::Ok();
  const BlockPlan plan = PlanRawBlocks(batch);
  const std::string sql = InsertSql(table.insert_into, table.columns, table.format);
  const std::string prefix = QueryIdPrefix(batch);
  auto delivered = [&]() -> Result<int64_t> {
    ASSIGN_OR_RETURN(auto r, client_->Query("SELECT count() FROM " + ChTable(options_.target, table.local) +
                                            " WHERE event_date IN (" + DayList(plan) + ") AND " +
                                            (table.string_provenance ? "_batch_id = " + ChLiteral(batch.id)
                                                                     : "_batch = " + std::to_string(batch.key()))));
    return std::stoll(r.Scalar());
  };
  size_t first = 0;
  int64_t sent = 0;  // rows of blocks[0, first)
  if (check_first) {
    RETURN_IF_ERROR(WaitNotRunning(prefix));
    ASSIGN_OR_RETURN(int64_t have, delivered());
    // Blocks go one after the other and each insert is atomic (one part), so what arrived is a prefix.
    while (first < plan.blocks.size() && sent < have) sent += static_cast<int64_t>(plan.blocks[first++].rows());
    if (sent != have)
      return Status::Internal("raw holds " + Int(have) + " rows of batch " + batch.id +
                              ", which no prefix of its blocks adds up to; not re-sending");
    if (first > 0) spdlog::info("batch {}: {} of {} blocks had arrived before", batch.id, first, plan.blocks.size());
  }
  const bool clustered = options_.target.clustered();
  size_t largest = 0;
  for (const auto& b : plan.blocks) largest = std::max(largest, b.rows());
  block_buffer_.Reserve(EstimateBlockBytes(batch, table.columns, largest));
  for (size_t i = first; i < plan.blocks.size(); ++i) {
    const int64_t before = sent, after = sent + static_cast<int64_t>(plan.blocks[i].rows());
    std::function<Result<bool>()> landed;
    if (!clustered)
      landed = [&, before, after]() -> Result<bool> {
        ASSIGN_OR_RETURN(int64_t have, delivered());
        if (have == after) return true;
        if (have == before) return false;
        return Status::Internal("raw holds " + Int(have) + " rows of batch " + batch.id + ", expected " + Int(before) +
                                " or " + Int(after));
      };
    const int64_t t0 = NowMicros();
    block_buffer_.Clear();
    RETURN_IF_ERROR(EncodeBlock(batch, table.columns, plan, i, table.format, block_buffer_));
    const int64_t t1 = NowMicros();
    RETURN_IF_ERROR(InsertWithRetries(sql, block_buffer_.view(), prefix + "rows:" + Int(i), landed));
    spdlog::debug("batch {} block {}: {} rows, {} bytes, encoded in {} ms, inserted in {} ms", batch.id, i,
                  plan.blocks[i].rows(), block_buffer_.size(), (t1 - t0) / 1000, (NowMicros() - t1) / 1000);
    sent = after;
    RETURN_IF_ERROR(Fault("rows"));
  }
  return Status::Ok();
}

Status ClickHouseWarehouse::SendDeadLetters(const Batch& batch, bool check_first) {
  if (batch.dead_letters.empty()) return Status::Ok();
  const std::string prefix = QueryIdPrefix(batch) + "dead";
  auto delivered = [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(
        auto r,
        client_->Query("SELECT count() FROM _sluice_dead_letters WHERE stream = " + ChLiteral(batch.stream().name) +
                       " AND source = " + ChLiteral(batch.source) + " AND batch_id = " + ChLiteral(batch.id)));
    return r.Scalar() != "0";  // one insert: all or nothing
  };
  if (check_first) {
    RETURN_IF_ERROR(WaitNotRunning(prefix));
    ASSIGN_OR_RETURN(bool in, delivered());
    if (in) return Status::Ok();
  }
  std::string data;
  RowBinaryWriter w(data);
  const uint32_t received = static_cast<uint32_t>(std::max<int64_t>(0, FloorDiv(batch.received_at_us, 1'000'000)));
  for (const auto& d : batch.dead_letters) {
    w.String(batch.stream().name);
    w.String(batch.source);
    w.String(d.partition);
    w.Fixed<int64_t>(d.offset);
    w.Fixed<uint32_t>(received);
    w.String(d.error);
    w.String(d.raw);
    w.Fixed<int64_t>(d.raw_length);
    w.String(batch.id);
  }
  const std::string sql =
      "INSERT INTO _sluice_dead_letters (stream, source, `partition`, `offset`, received_at, error, raw, "
      "raw_length, batch_id) FORMAT RowBinary";
  RETURN_IF_ERROR(
      InsertWithRetries(sql, data, prefix, options_.target.clustered() ? std::function<Result<bool>()>() : delivered));
  return Fault("dead_letters");
}

Status ClickHouseWarehouse::WriteLedgerRow(const Batch& batch, const std::string& landed_file) {
  std::string data;
  RowBinaryWriter w(data);
  const uint64_t version = NextVersion();
  const int64_t now = static_cast<int64_t>(version);
  w.String(batch.id);
  w.Fixed<int64_t>(now);  // seq: load order within a loader (microseconds)
  w.String(batch.stream().name);
  w.String(batch.source);
  w.VarUInt(batch.ranges.size());
  for (const auto& [p, r] : batch.ranges) w.String(p);
  w.VarUInt(batch.ranges.size());
  for (const auto& [p, r] : batch.ranges) w.Fixed<int64_t>(r.first);
  w.VarUInt(batch.ranges.size());
  for (const auto& [p, r] : batch.ranges) w.Fixed<int64_t>(r.next);
  w.VarUInt(batch.ranges.size());
  for (const auto& [p, r] : batch.ranges) w.Fixed<int64_t>(r.records);
  w.String(landed_file);
  w.Fixed<int64_t>(static_cast<int64_t>(batch.rows()));
  w.Fixed<int64_t>(static_cast<int64_t>(batch.dead_letters.size()));
  w.Fixed<int64_t>(batch.late_rows);
  w.VarUInt(batch.event_hours.size());
  for (int64_t h : batch.event_hours) w.Fixed<uint32_t>(static_cast<uint32_t>(FloorDiv(h, 1'000'000)));
  int64_t min_t = INT64_MAX, max_t = INT64_MIN;
  for (size_t i = 0; i < batch.rows(); ++i) {
    min_t = std::min(min_t, batch.event_time(i));
    max_t = std::max(max_t, batch.event_time(i));
  }
  w.Null(batch.rows() == 0);
  if (batch.rows() > 0) w.Fixed<int64_t>(min_t);
  w.Null(batch.rows() == 0);
  if (batch.rows() > 0) w.Fixed<int64_t>(max_t);
  w.Fixed<uint32_t>(static_cast<uint32_t>(std::max<int64_t>(0, FloorDiv(batch.received_at_us, 1'000'000))));
  w.Fixed<uint32_t>(static_cast<uint32_t>(now / 1'000'000));
  w.Fixed<uint64_t>(version);
  w.Fixed<uint64_t>(batch.key());
  const std::string sql =
      "INSERT INTO _sluice_batches (batch_id, seq, stream, source, part_names, part_first, part_next, "
      "part_records, file, rows, dead_rows, late_rows, event_hours, min_event_us, max_event_us, received_at, "
      "loaded_at, version, batch_key) FORMAT RowBinary";
  // A second copy of the row (a retry after an ambiguous failure) is harmless: FINAL keeps one.
  return InsertWithRetries(sql, data, QueryIdPrefix(batch) + "ledger", nullptr);
}

uint64_t ClickHouseWarehouse::NextVersion() {
  last_version_ = std::max<uint64_t>(last_version_ + 1, static_cast<uint64_t>(NowMicros()));
  return last_version_;
}

// ---- Recovery ----

Status ClickHouseWarehouse::RecoverFromLanding(const Config& config, const RecoveryScope& scope) {
  LandingReader landing(OpenObjectStore(config));
  for (const auto& stream : config.streams) {
    ASSIGN_OR_RETURN(auto newest, client_->Query("SELECT toInt64(max(received_at)), count() FROM _sluice_batches "
                                                 "WHERE stream = " +
                                                 ChLiteral(stream.name)));
    const bool any = !newest.rows.empty() && newest.rows[0][1].value_or("0") != "0";
    const int64_t from_us =
        any ? std::stoll(newest.rows[0][0].value_or("0")) * 1'000'000 - kMicrosPerDay : NowMicros() - 7 * kMicrosPerDay;
    const std::string from_day = FormatIsoDate(DayOf(from_us));
    ASSIGN_OR_RETURN(auto landed, landing.List(stream.name, from_day));
    if (landed.empty()) continue;
    ASSIGN_OR_RETURN(auto ids, client_->Query("SELECT DISTINCT batch_id FROM _sluice_batches WHERE stream = " +
                                              ChLiteral(stream.name) + " AND received_at >= toDateTime(" +
                                              ChLiteral(from_day + " 00:00:00") + ") - 86400"));
    std::set<std::string> loaded;
    for (const auto& row : ids.rows) loaded.insert(row[0].value_or(""));
    std::vector<std::pair<Batch, std::string>> todo;
    for (const auto& l : landed) {
      if (loaded.count(l.batch_id) || scope.skip_batch_ids.count(l.batch_id)) continue;
      auto batch = landing.Rebuild(l, &stream);
      if (!batch.ok()) return batch.status().WithContext("recovering " + l.manifest_path);
      if (!scope.source.empty() && batch->source != scope.source) continue;
      todo.emplace_back(std::move(*batch), l.data_path);
    }
    // In the order they were read, so each passes the fence its successors depend on.
    std::stable_sort(todo.begin(), todo.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.received_at_us, a.first.id) < std::tie(b.first.received_at_us, b.first.id);
    });
    for (auto& [batch, file] : todo) {
      ASSIGN_OR_RETURN(LoadOutcome outcome, Load(batch, file, Mode::kRecovery));
      spdlog::info("recovery: landed batch {} of {}: {}", batch.id, stream.name,
                   outcome == LoadOutcome::kLoaded  ? "loaded"
                   : outcome == LoadOutcome::kStale ? "stale, skipped"
                                                    : "already loaded");
    }
  }
  return Status::Ok();
}

// ---- Collector runs and the HTTP cache ----

Status ClickHouseWarehouse::PutRun(const RunRecord& run) {
  auto us = [](TimePoint t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  };
  std::string data;
  RowBinaryWriter w(data);
  w.String(run.run_id);
  w.String(run.collector);
  w.Fixed<int64_t>(us(run.scheduled));
  w.Fixed<int64_t>(us(run.started));
  w.Null(!run.ended);
  if (run.ended) w.Fixed<int64_t>(us(*run.ended));
  w.String(RunStatusName(run.status));
  w.Fixed<int64_t>(run.rows);
  w.String(run.error);
  w.String(run.notes);
  w.Fixed<uint64_t>(NextVersion());
  return InsertWithRetries(
      "INSERT INTO _sluice_runs (run_id, collector, scheduled_us, started_us, ended_us, status, rows, error, "
      "notes, version) FORMAT RowBinary",
      data, "", nullptr);
}

Result<std::vector<RunRecord>> ClickHouseWarehouse::Runs(const std::string& collector) {
  ASSIGN_OR_RETURN(auto q, client_->Query("SELECT collector, run_id, scheduled_us, started_us, ended_us, status, "
                                          "rows, error, notes FROM _sluice_runs FINAL" +
                                          (collector.empty() ? "" : " WHERE collector = " + ChLiteral(collector)) +
                                          " ORDER BY started_us, run_id"));
  auto at = [](const std::optional<std::string>& v) {
    return TimePoint(std::chrono::microseconds(std::stoll(v.value_or("0"))));
  };
  std::vector<RunRecord> out;
  for (const auto& row : q.rows) {
    RunRecord r;
    r.collector = row[0].value_or("");
    r.run_id = row[1].value_or("");
    r.scheduled = at(row[2]);
    r.started = at(row[3]);
    if (row[4]) r.ended = at(row[4]);
    r.status = ParseRunStatus(row[5].value_or(""));
    r.rows = std::stoll(row[6].value_or("0"));
    r.error = row[7].value_or("");
    r.notes = row[8].value_or("");
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<HttpCacheEntry>> ClickHouseWarehouse::GetHttpCache(const std::string& url) {
  ASSIGN_OR_RETURN(auto q, client_->Query("SELECT etag, headers, body, fetched_at_us, deleted FROM "
                                          "_sluice_http_cache FINAL WHERE url = " +
                                          ChLiteral(url)));
  if (q.rows.empty() || q.rows[0][4].value_or("0") != "0") return std::optional<HttpCacheEntry>();
  const auto& row = q.rows[0];
  HttpCacheEntry e;
  e.url = url;
  e.etag = row[0].value_or("");
  e.headers = ParseHeadersJson(row[1].value_or("[]"));
  e.body = row[2].value_or("");
  e.fetched_at_us = std::stoll(row[3].value_or("0"));
  return std::optional<HttpCacheEntry>(std::move(e));
}

namespace {

constexpr const char* kHttpCacheInsert =
    "INSERT INTO _sluice_http_cache (url, etag, headers, body, body_bytes, fetched_at_us, deleted, version) "
    "FORMAT RowBinary";

void WriteCacheRow(std::string& data, const HttpCacheEntry& e, bool deleted, uint64_t version) {
  RowBinaryWriter w(data);
  w.String(e.url);
  w.String(e.etag);
  w.String(HeadersJson(e.headers));
  w.String(e.body);
  w.Fixed<int64_t>(static_cast<int64_t>(e.body.size()));
  w.Fixed<int64_t>(e.fetched_at_us);
  w.Fixed<uint8_t>(deleted ? 1 : 0);
  w.Fixed<uint64_t>(version);
}

}  // namespace

Status ClickHouseWarehouse::PutHttpCache(const HttpCacheEntry& entry) {
  std::string data;
  WriteCacheRow(data, entry, false, NextVersion());
  return InsertWithRetries(kHttpCacheInsert, data, "", nullptr);
}

Status ClickHouseWarehouse::DropHttpCache(const std::string& url) {
  // A newer row that says "deleted": ReplacingMergeTree keeps it, FINAL hides the entry; no mutation.
  HttpCacheEntry tombstone;
  tombstone.url = url;
  std::string data;
  WriteCacheRow(data, tombstone, true, NextVersion());
  return InsertWithRetries(kHttpCacheInsert, data, "", nullptr);
}

Status ClickHouseWarehouse::ExpireHttpCache(int64_t before_us) {
  return client_->Execute(
      "INSERT INTO _sluice_http_cache (url, etag, headers, body, body_bytes, fetched_at_us, deleted, version) "
      "SELECT url, '', '[]', '', 0, fetched_at_us, 1, " +
      std::to_string(NextVersion()) + " FROM _sluice_http_cache FINAL WHERE deleted = 0 AND fetched_at_us < " +
      Int(before_us));
}

}  // namespace sluice
