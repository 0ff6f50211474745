#include "coordination/coordinator.h"

#include <spdlog/spdlog.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/time.h"

namespace sluice {

namespace {

using Json = nlohmann::json;

int64_t SteadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One path component from any name: bytes outside [A-Za-z0-9_-] become %XX ('.' too, so "." and ".." are
// safe; '/' and ':' too, so "rollup:a/b" is one node).
std::string EncodeName(const std::string& name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '_' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string DecodeName(const std::string& component) {
  auto hex = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i < component.size(); ++i) {
    if (component[i] == '%' && i + 2 < component.size() &&
        std::isxdigit(static_cast<unsigned char>(component[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(component[i + 2]))) {
      out += static_cast<char>(hex(component[i + 1]) * 16 + hex(component[i + 2]));
      i += 2;
    } else {
      out += component[i];
    }
  }
  return out;
}

// ZooKeeper's own log (connection attempts, reconnects) goes to spdlog at debug level: the Coordinator logs
// what matters (expiry, lost leases, unreachable servers) itself.
void LogToSpdlog(const char* message) { spdlog::debug("zookeeper: {}", message); }

bool Retriable(int rc) {
  return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT || rc == ZSESSIONMOVED || rc == ZCLOSING || rc == ZNOTHING ||
         rc == ZSESSIONEXPIRED || rc == ZINVALIDSTATE;
}

Status ZkStatus(int rc, const std::string& what) {
  std::string message = what + ": " + zerror(rc);
  if (Retriable(rc)) return Status::Retry(message);
  if (rc == ZNONODE) return Status::NotFound(message);
  if (rc == ZNODEEXISTS) return Status::AlreadyExists(message);
  return Status::Internal(message);
}

// A node's data and stat; the rc on failure (ZNONODE when it went meanwhile).
int GetData(zhandle_t* zh, const std::string& path, std::string* data, Stat* stat) {
  std::string buffer(4096, '\0');
  while (true) {
    int len = static_cast<int>(buffer.size());
    int rc = zoo_get(zh, path.c_str(), 0, buffer.data(), &len, stat);
    if (rc != ZOK) return rc;
    if (stat->dataLength > static_cast<int>(buffer.size())) {
      buffer.resize(static_cast<size_t>(stat->dataLength));
      continue;
    }
    buffer.resize(len < 0 ? 0 : static_cast<size_t>(len));
    *data = std::move(buffer);
    return ZOK;
  }
}

int Children(zhandle_t* zh, const std::string& path, std::vector<std::string>* out) {
  String_vector children{};
  int rc = zoo_get_children(zh, path.c_str(), 0, &children);
  if (rc != ZOK) return rc;
  for (int i = 0; i < children.count; ++i) out->push_back(children.data[i]);
  deallocate_String_vector(&children);
  std::sort(out->begin(), out->end());
  return ZOK;
}

std::string Hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Coordinator::Coordinator(const Config& config, std::string worker, Metrics* metrics)
    : hosts_(config.zookeeper),
      root_(config.coordination_root == "/"
                ? ""
                : config.coordination_root.substr(0, config.coordination_root.find_last_not_of('/') + 1)),
      lease_timeout_us_(config.lease_timeout_us),
      worker_(std::move(worker)),
      metrics_(metrics),
      labels_("worker=\"" + worker_ + "\"") {}

Result<std::unique_ptr<Coordinator>> Coordinator::Connect(const Config& config, const std::string& worker,
                                                          Metrics* metrics) {
  if (config.zookeeper.empty()) {
    return Status::Invalid("coordination needs ZooKeeper servers (coordination.zookeeper: host:port[,...])");
  }
  if (config.coordination_root.empty() || config.coordination_root[0] != '/') {
    return Status::Invalid("coordination.root must be an absolute ZooKeeper path, not '" + config.coordination_root +
                           "'");
  }
  if (config.lease_timeout_us < 1'000) return Status::Invalid("coordination.lease_timeout must be positive");
  std::unique_ptr<Coordinator> c(new Coordinator(config, worker, metrics));
  ASSIGN_OR_RETURN(c->zh_, c->OpenSession());
  c->current_ = c->zh_;
  c->connected_ = true;
  RETURN_IF_ERROR(c->EnsureLayout());
  if (!worker.empty()) {
    // A same-named node may be a killed predecessor's, alive until its session expires.
    int64_t wait_us = std::max(c->lease_timeout_us_, c->session_timeout_us_.load()) + 2'000'000;
    RETURN_IF_ERROR(c->Register(wait_us));
  }
  c->supervisor_ = std::thread(&Coordinator::Supervise, c.get());
  return c;
}

Coordinator::~Coordinator() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  zhandle_t* zh = nullptr;
  {
    std::unique_lock<std::shared_mutex> lock(handle_mu_);
    zh = zh_;
    zh_ = nullptr;
    current_ = nullptr;
    connected_ = false;
  }
  if (zh != nullptr) zookeeper_close(zh);
  std::lock_guard<std::mutex> lock(mu_);
  held_.clear();
  UpdateHeldGauge();
}

Result<zhandle_t*> Coordinator::OpenSession() {
  static std::once_flag log_level;
  std::call_once(log_level, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
  int timeout_ms = static_cast<int>(std::min<int64_t>(lease_timeout_us_ / 1000, INT32_MAX));
  int64_t started = SteadyMicros();
  zhandle_t* zh = zookeeper_init2(hosts_.c_str(), &Coordinator::Watcher, timeout_ms, nullptr, this, 0, &LogToSpdlog);
  if (zh == nullptr) {
    return Status::Invalid("ZooKeeper servers '" + hosts_ + "': " + std::strerror(errno));
  }
  while (zoo_state(zh) != ZOO_CONNECTED_STATE) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        zookeeper_close(zh);
        return Status::Cancelled("coordinator closing");
      }
    }
    int state = zoo_state(zh);
    bool over = SteadyMicros() - started > lease_timeout_us_;
    if (over || state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
      zookeeper_close(zh);
      return Status::Retry("ZooKeeper " + hosts_ + " unreachable: no session within " +
                           std::to_string(lease_timeout_us_ / 1000) + " ms (coordination.zookeeper, lease_timeout)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int64_t granted_us = int64_t{zoo_recv_timeout(zh)} * 1000;
  if (granted_us != lease_timeout_us_ && session_timeout_us_.load() != granted_us) {
    spdlog::warn(
        "coordination: ZooKeeper granted a session timeout of {} ms instead of lease_timeout {} ms (the "
        "server keeps it within 2 and 20 ticks); leases pass on after {} ms",
        granted_us / 1000, lease_timeout_us_ / 1000, granted_us / 1000);
  }
  session_timeout_us_ = granted_us;
  Confirmed(started);
  return zh;
}

Status Coordinator::EnsureLayout() {
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  std::vector<std::string> paths;
  for (size_t i = 1; i <= root_.size(); ++i) {
    if (i == root_.size() || root_[i] == '/') paths.push_back(root_.substr(0, i));
  }
  for (const char* dir : {"/workers", "/leases", "/epochs"}) paths.push_back(root_ + dir);
  for (const std::string& path : paths) {
    int rc = zoo_create(zh_, path.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) return ZkStatus(rc, "creating " + path + " on ZooKeeper " + hosts_);
  }
  return Status::Ok();
}

Status Coordinator::Register(int64_t wait_us) {
  int64_t deadline = SteadyMicros() + wait_us;
  bool logged = false;
  while (true) {
    std::string data;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Status::Cancelled("coordinator closing");
      data = status_json_;
    }
    std::shared_lock<std::shared_mutex> lock(handle_mu_);
    int64_t sent = SteadyMicros();
    int rc = zoo_create(zh_, WorkerPath().c_str(), data.data(), static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL, nullptr, 0);
    if (rc == ZOK) {
      Confirmed(sent);
      return Status::Ok();
    }
    if (rc != ZNODEEXISTS) return ZkStatus(rc, "registering worker '" + worker_ + "'");
    Stat stat{};
    rc = zoo_exists(zh_, WorkerPath().c_str(), 0, &stat);
    if (rc == ZNONODE) continue;  // gone meanwhile
    if (rc != ZOK) return ZkStatus(rc, "registering worker '" + worker_ + "'");
    if (stat.ephemeralOwner == zoo_client_id(zh_)->client_id) return Status::Ok();  // a retried create
    if (SteadyMicros() > deadline) {
      return Status::AlreadyExists("worker '" + worker_ + "' is already registered in ZooKeeper by a live process (" +
                                   "session " + Hex(stat.ephemeralOwner) + ", since " +
                                   FormatIsoMicros(stat.ctime * 1000) +
                                   "); every sluice run needs its own --worker name");
    }
    if (!logged) {
      spdlog::info("coordination: worker '{}' is registered by session {}; waiting up to {} s for it to expire",
                   worker_, Hex(stat.ephemeralOwner), wait_us / 1'000'000);
      logged = true;
    }
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status Coordinator::Publish(const std::string& status_json) {
  if (worker_.empty()) return Status::Invalid("an observer (no worker name) has no status to publish");
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_json_ = status_json;
  }
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  int64_t sent = SteadyMicros();
  int rc = zoo_set(zh_, WorkerPath().c_str(), status_json.data(), static_cast<int>(status_json.size()), -1);
  if (rc == ZOK) {
    Confirmed(sent);
    return Status::Ok();
  }
  if (rc == ZNONODE) {
    return Status::Retry("worker '" + worker_ + "' is not registered (its session expired; registering again)");
  }
  return ZkStatus(rc, "publishing the status of worker '" + worker_ + "'");
}

Result<std::vector<WorkerInfo>> Coordinator::Workers() {
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  std::vector<std::string> children;
  int rc = Children(zh_, root_ + "/workers", &children);
  if (rc != ZOK) return ZkStatus(rc, "listing workers under " + root_ + "/workers");
  std::vector<WorkerInfo> out;
  for (const std::string& child : children) {
    WorkerInfo w;
    Stat stat{};
    rc = GetData(zh_, root_ + "/workers/" + child, &w.status_json, &stat);
    if (rc == ZNONODE) continue;  // its session ended meanwhile
    if (rc != ZOK) return ZkStatus(rc, "reading worker " + child);
    w.name = DecodeName(child);
    w.since_us = stat.ctime * 1000;
    out.push_back(std::move(w));
  }
  return out;
}

Result<std::vector<LeaseInfo>> Coordinator::Leases() {
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  std::vector<std::string> children;
  int rc = Children(zh_, root_ + "/leases", &children);
  if (rc != ZOK) return ZkStatus(rc, "listing leases under " + root_ + "/leases");
  std::vector<LeaseInfo> out;
  for (const std::string& child : children) {
    LeaseInfo l;
    std::string data;
    Stat stat{};
    rc = GetData(zh_, root_ + "/leases/" + child, &data, &stat);
    if (rc == ZNONODE) continue;  // released meanwhile
    if (rc != ZOK) return ZkStatus(rc, "reading lease " + child);
    l.name = DecodeName(child);
    l.since_us = stat.ctime * 1000;
    Json j = Json::parse(data, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      l.owner = j.value("worker", "");
      l.epoch = j.value("epoch", int64_t{0});
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<std::optional<Lease>> Coordinator::TryAcquire(const std::string& name) {
  if (worker_.empty()) return Status::Invalid("an observer (no worker name) cannot hold leases");
  if (name.empty()) return Status::Invalid("a lease needs a name");
  const std::string lease_path = LeasePath(name), epoch_path = EpochPath(name);
  int64_t generation = 0;
  {
    std::lock_guard<std::mutex> held_lock(mu_);
    generation = generation_;
  }
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  // A few rounds: another worker may bump the epoch (acquire and release) between our read and our multi.
  for (int attempt = 0; attempt < 8; ++attempt) {
    int64_t sent = SteadyMicros();
    int rc = zoo_create(zh_, epoch_path.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, nullptr, 0);
    if (rc != ZOK && rc != ZNODEEXISTS) return ZkStatus(rc, "lease '" + name + "': creating its epoch node");
    Stat epoch_stat{};
    rc = zoo_exists(zh_, epoch_path.c_str(), 0, &epoch_stat);
    if (rc == ZNONODE) continue;
    if (rc != ZOK) return ZkStatus(rc, "lease '" + name + "': reading its epoch");
    int64_t epoch = int64_t{epoch_stat.version} + 1;
    std::string data =
        Json{{"worker", worker_}, {"epoch", epoch}, {"acquired_at", FormatIsoMicros(NowMicros())}}.dump();
    zoo_op_t ops[2];
    zoo_op_result_t results[2];
    Stat set_stat{};
    zoo_create_op_init(&ops[0], lease_path.c_str(), data.data(), static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                       ZOO_EPHEMERAL, nullptr, 0);
    zoo_set_op_init(&ops[1], epoch_path.c_str(), data.data(), static_cast<int>(data.size()), epoch_stat.version,
                    &set_stat);
    rc = zoo_multi(zh_, 2, ops, results);
    if (rc == ZOK) {
      Confirmed(sent);
      epoch = set_stat.version;
      {
        std::lock_guard<std::mutex> held_lock(mu_);
        // The session expired right after the multi: the lease went with it.
        if (generation != generation_) return Status::Retry("lease '" + name + "': the session expired, try again");
        held_[name] = epoch;
        UpdateHeldGauge();
      }
      if (metrics_) metrics_->Add("sluice_lease_acquisitions_total", labels_, 1);
      return std::optional<Lease>(Lease{name, epoch});
    }
    if (rc == ZBADVERSION || rc == ZNONODE) continue;
    if (rc != ZNODEEXISTS) return ZkStatus(rc, "lease '" + name + "': acquiring");
    // Held: by this session (acquired before), or by another worker.
    std::string holder;
    Stat lease_stat{};
    rc = GetData(zh_, lease_path, &holder, &lease_stat);
    if (rc == ZNONODE) continue;  // released meanwhile
    if (rc != ZOK) return ZkStatus(rc, "lease '" + name + "': reading its holder");
    Confirmed(sent);
    if (lease_stat.ephemeralOwner != zoo_client_id(zh_)->client_id) return std::optional<Lease>();
    Json j = Json::parse(holder, nullptr, /*allow_exceptions=*/false);
    int64_t held_epoch = j.is_object() ? j.value("epoch", int64_t{0}) : 0;
    std::lock_guard<std::mutex> held_lock(mu_);
    if (generation != generation_) return Status::Retry("lease '" + name + "': the session expired, try again");
    held_.try_emplace(name, held_epoch);
    UpdateHeldGauge();
    return std::optional<Lease>(Lease{name, held_.at(name)});
  }
  return Status::Retry("lease '" + name + "': contended (its epoch kept moving), try again");
}

bool Coordinator::Holds(const Lease& lease) const {
  if (!connected_) return false;
  if (SteadyMicros() - confirmed_us_.load() >= session_timeout_us_.load() * 2 / 3) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(lease.name);
  return it != held_.end() && it->second == lease.epoch;
}

Status Coordinator::Fence(const Lease& lease) {
  if (worker_.empty()) return Status::Invalid("an observer (no worker name) holds no leases");
  std::string what = "lease '" + lease.name + "' epoch " + std::to_string(lease.epoch) + " of worker '" + worker_ + "'";
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(lease.name);
    if (it == held_.end() || it->second != lease.epoch) {
      if (metrics_) metrics_->Add("sluice_lease_fence_refusals_total", labels_, 1);
      return Status::Stale(what + ": not held (released, or lost with an expired session)");
    }
  }
  const std::string lease_path = LeasePath(lease.name), epoch_path = EpochPath(lease.name);
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  zoo_op_t ops[2];
  zoo_op_result_t results[2];
  zoo_check_op_init(&ops[0], lease_path.c_str(), -1);  // exists
  zoo_check_op_init(&ops[1], epoch_path.c_str(), static_cast<int>(lease.epoch));
  int64_t sent = SteadyMicros();
  int rc = zoo_multi(zh_, 2, ops, results);
  bool expired = rc == ZSESSIONEXPIRED || (rc == ZINVALIDSTATE && zoo_state(zh_) == ZOO_EXPIRED_SESSION_STATE);
  lock.unlock();
  if (rc == ZOK) {
    Confirmed(sent);
    return Status::Ok();
  }
  std::string why;
  if (rc == ZNONODE) {
    why = "its lease node is gone (session expired or lease deleted)";
  } else if (rc == ZBADVERSION) {
    why = "another acquisition happened since (the epoch moved on)";
  } else if (expired) {
    why = "the ZooKeeper session expired";
  } else {
    return ZkStatus(rc, "fencing " + what + " (not confirmed: do not commit now)");
  }
  Forget(lease.name, lease.epoch, /*lost=*/true);
  if (metrics_) metrics_->Add("sluice_lease_fence_refusals_total", labels_, 1);
  spdlog::warn("coordination: {} refused at fence: {}", what, why);
  return Status::Stale(what + ": " + why);
}

void Coordinator::Release(const Lease& lease) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(lease.name);
    if (it == held_.end() || it->second != lease.epoch) return;
  }
  Forget(lease.name, lease.epoch, /*lost=*/false);
  const std::string lease_path = LeasePath(lease.name), epoch_path = EpochPath(lease.name);
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  zoo_op_t ops[2];
  zoo_op_result_t results[2];
  // Only our own acquisition: while the epoch is ours, nobody else can have created the lease node.
  zoo_check_op_init(&ops[0], epoch_path.c_str(), static_cast<int>(lease.epoch));
  zoo_delete_op_init(&ops[1], lease_path.c_str(), -1);
  int rc = zoo_multi(zh_, 2, ops, results);
  if (rc != ZOK && rc != ZNONODE && rc != ZBADVERSION) {
    spdlog::warn("coordination: releasing lease '{}' of worker '{}' failed ({}); it goes with the session", lease.name,
                 worker_, zerror(rc));
  }
}

ZooKeeperSession Coordinator::session() const {
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  const clientid_t* id = zoo_client_id(zh_);
  return ZooKeeperSession{id->client_id, std::string(id->passwd, sizeof id->passwd)};
}

void Coordinator::Supervise() {
  while (true) {
    std::unique_lock<std::mutex> lock(mu_);
    auto interval = std::chrono::microseconds(std::max<int64_t>(session_timeout_us_.load() / 6, 50'000));
    cv_.wait_for(lock, interval, [&] { return stopping_ || expired_; });
    if (stopping_) return;
    bool expired = expired_;
    lock.unlock();
    if (expired) {
      ReplaceExpiredSession();
    } else {
      Heartbeat();
    }
  }
}

void Coordinator::Heartbeat() {
  std::shared_lock<std::shared_mutex> lock(handle_mu_);
  Stat stat{};
  int64_t sent = SteadyMicros();
  int rc = zoo_exists(zh_, root_.empty() ? "/" : root_.c_str(), 0, &stat);
  if (rc == ZOK || rc == ZNONODE) {
    Confirmed(sent);
  } else if (zoo_state(zh_) == ZOO_EXPIRED_SESSION_STATE) {
    // The watcher says so too, unless the event came before this handle became current.
    std::lock_guard<std::mutex> held_lock(mu_);
    expired_ = true;
  }
}

void Coordinator::ReplaceExpiredSession() {
  connected_ = false;
  size_t lost = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lost = held_.size();
    held_.clear();
    ++generation_;
    UpdateHeldGauge();
    expired_ = false;
  }
  if (metrics_) {
    metrics_->Add("sluice_zookeeper_session_expiries_total", labels_, 1);
    metrics_->Add("sluice_lease_losses_total", labels_, static_cast<int64_t>(lost));
  }
  spdlog::warn("coordination: the ZooKeeper session of worker '{}' expired; {} lease(s) lost; opening a new session",
               worker_, lost);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    Result<zhandle_t*> opened = OpenSession();
    if (opened.ok()) {
      zhandle_t* old = nullptr;
      {
        std::unique_lock<std::shared_mutex> lock(handle_mu_);
        old = zh_;
        zh_ = *opened;
        current_ = zh_;
        connected_ = zoo_state(zh_) == ZOO_CONNECTED_STATE;
      }
      zookeeper_close(old);
      break;
    }
    spdlog::warn("coordination: worker '{}': {}; retrying", worker_, opened.status().message());
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
  }
  Status st = EnsureLayout();
  if (st.ok() && !worker_.empty()) {
    st = Register(std::max(lease_timeout_us_, session_timeout_us_.load()) + 2'000'000);
  }
  if (!st.ok() && st.code() != StatusCode::kCancelled) {
    spdlog::error("coordination: worker '{}' could not register again after its session expired: {}", worker_,
                  st.ToString());
  }
}

void Coordinator::Forget(const std::string& name, int64_t epoch, bool lost) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = held_.find(name);
  if (it == held_.end() || it->second != epoch) return;
  held_.erase(it);
  UpdateHeldGauge();
  if (lost && metrics_) metrics_->Add("sluice_lease_losses_total", labels_, 1);
}

void Coordinator::UpdateHeldGauge() {
  if (metrics_ && !worker_.empty()) metrics_->Set("sluice_leases_held", labels_, static_cast<int64_t>(held_.size()));
}

void Coordinator::Confirmed(int64_t sent_us) {
  int64_t previous = confirmed_us_.load();
  while (previous < sent_us && !confirmed_us_.compare_exchange_weak(previous, sent_us)) {
  }
}

void Coordinator::Watcher(zhandle_t* zh, int type, int state, const char* /*path*/, void* context) {
  auto* self = static_cast<Coordinator*>(context);
  if (type != ZOO_SESSION_EVENT || zh != self->current_.load()) return;
  if (state == ZOO_CONNECTED_STATE) {
    self->connected_ = true;
  } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
    self->connected_ = false;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->expired_ = true;
    }
    self->cv_.notify_all();
  } else {
    self->connected_ = false;  // connecting again: Holds waits for the server to confirm the session
  }
}

std::string Coordinator::LeasePath(const std::string& name) const { return root_ + "/leases/" + EncodeName(name); }
std::string Coordinator::EpochPath(const std::string& name) const { return root_ + "/epochs/" + EncodeName(name); }
std::string Coordinator::WorkerPath() const { return root_ + "/workers/" + EncodeName(worker_); }

}  // namespace sluice
