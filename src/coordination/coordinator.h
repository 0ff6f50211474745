// Coordinator: one worker's (or an observer's) connection to ZooKeeper, for the work that must run on one
// worker at a time when several `sluice run --worker NAME` processes share a pipeline (a transform target, a
// collector's schedule slot, a file source). This file and coordinator.cc are the only ones that include
// ZooKeeper's C client.
//
// Layout under Config::coordination_root (default /sluice):
//   workers/<worker>  ephemeral; data: the worker's published status (JSON), for `sluice status`
//   leases/<name>     ephemeral, owned by the holder's session; data {"worker", "epoch", "acquired_at"}
//   epochs/<name>     persistent; its ZooKeeper version is the lease's epoch
// Names are percent-encoded into one path component ('/', ':', '.', '%' and any byte outside [A-Za-z0-9_-]).
//
// Fencing. Acquiring is ONE ZooKeeper multi: create leases/<name> (ephemeral) + setData on epochs/<name> at
// the version just read. Both happen or neither, so an epoch (the version after the setData) is handed out
// once and epochs of one name strictly increase. Fence is one multi of two check ops on this worker's
// session: leases/<name> exists and epochs/<name> is still at the lease's epoch (nobody acquired since). A
// check on an expired session fails, and anyone who acquired since bumped the epoch, so a stale owner (a
// process paused past its lease timeout, a partitioned worker) is refused. Fence narrows the window to one
// round trip before the commit; it does not close it: a commit that must be refused even when it started
// before the takeover needs the warehouse itself to compare the epoch (e.g. a ledger keyed by it).
//
// Failure. A worker that dies (kill -9, lost machine) stops heartbeating; ZooKeeper expires its session
// after the session timeout (Config::lease_timeout_us, as negotiated with the server) and deletes its
// ephemeral nodes, so another worker's TryAcquire succeeds within that time. A live worker whose session
// expires (paused, partitioned) learns it when it reaches ZooKeeper again: the Coordinator then counts every
// lease it held as lost (Holds false, Fence Stale), opens a new session and registers the worker again.
//
// Metrics (labels worker="<name>"): sluice_leases_held (gauge), sluice_lease_acquisitions_total,
// sluice_lease_losses_total (lost other than by Release: session expiry, a refused fence),
// sluice_lease_fence_refusals_total, sluice_zookeeper_session_expiries_total.
//
// ZooKeeperLeases (zookeeper_leases.h) is the core/work_leases.h interface over a Coordinator.
//
// Thread-safety: all methods may be called from any thread. A background thread heartbeats the session and
// replaces it after expiry; destroying the Coordinator closes the session, which frees its leases at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/metrics.h"
#include "core/status.h"

typedef struct _zhandle zhandle_t;

namespace sluice {

// The right to do the work `name`, as acquired at `epoch`.
struct Lease {
  std::string name;
  int64_t epoch = 0;  // >= 1; strictly increasing per lease name, across workers and restarts
};

struct LeaseInfo {
  std::string name, owner;  // owner: the holder's worker name
  int64_t epoch = 0;
  int64_t since_us = 0;  // when it was acquired (ZooKeeper's clock), Unix microseconds
};

struct WorkerInfo {
  std::string name;
  std::string status_json;  // what the worker last published; "{}" before its first Publish
  int64_t since_us = 0;     // when it registered (this session), Unix microseconds
};

// The ZooKeeper session of a Coordinator: what a test needs to expire it from outside.
struct ZooKeeperSession {
  int64_t id = 0;
  std::string password;
};

class Coordinator {
 public:
  // Connects to config.zookeeper ("host:port[,...]") with session timeout config.lease_timeout_us, creates
  // <root>/{workers,leases,epochs} if missing and, when `worker` is not empty, registers it as the ephemeral
  // node <root>/workers/<worker>. Invalid when config.zookeeper is empty; Retry, naming the servers, when no
  // session is established within the lease timeout (ZooKeeper unreachable). When the node of a same-named
  // worker exists, waits up to one lease timeout for it to go (a worker killed and restarted at once finds its
  // previous session still alive), then AlreadyExists naming the worker. An empty `worker` is an observer
  // (`sluice status`): it reads, it cannot hold leases. `metrics` may be null; it must outlive the Coordinator.
  static Result<std::unique_ptr<Coordinator>> Connect(const Config& config, const std::string& worker,
                                                      Metrics* metrics = nullptr);
  // Closes the session: this worker's node and leases vanish at once.
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  const std::string& worker() const { return worker_; }

  // Sets this worker's node data (partitions, leases, ...: JSON, read back by Workers()). Kept and written
  // again when the worker re-registers after a session expiry. Invalid for an observer; Retry when ZooKeeper
  // cannot be reached.
  Status Publish(const std::string& status_json);
  // The live workers (sessions not expired), by name.
  Result<std::vector<WorkerInfo>> Workers();
  // The held leases, by name.
  Result<std::vector<LeaseInfo>> Leases();

  // Non-blocking. The lease, at a new epoch, if this worker got it now; the lease it holds if it holds it
  // already; nullopt while another worker holds it. Retry when ZooKeeper cannot be reached; Invalid for an
  // observer or an empty name.
  Result<std::optional<Lease>> TryAcquire(const std::string& name);
  // Local, no round trip: true if the session is connected, the server confirmed it less than 2/3 of the
  // session timeout ago (so it cannot have expired yet), and `lease` (name and epoch) was acquired by this
  // worker and not released or lost since. Use it to stop long work early; commit only after Fence.
  bool Holds(const Lease& lease) const;
  // One round trip, right before a commit. Ok only if this worker still holds `lease` at its epoch. Stale
  // when it does not (released, taken over, session expired): abandon the work, it will be redone; the lease
  // then counts as lost. Retry when ZooKeeper cannot be reached: do not commit now (fence again later). While
  // ZooKeeper does not answer it blocks until the client gives the connection up (about the session timeout).
  Status Fence(const Lease& lease);
  // Gives the lease up at once if this worker holds it at that epoch; does nothing otherwise. Failures are
  // logged: the lease then goes when the session does.
  void Release(const Lease& lease);

  // The current session (its id and password), for tests that expire it.
  ZooKeeperSession session() const;
  // The session timeout the server granted, in microseconds (ZooKeeper keeps it within 2 and 20 ticks).
  int64_t session_timeout_us() const { return session_timeout_us_.load(); }

 private:
  Coordinator(const Config& config, std::string worker, Metrics* metrics);
  // A new session on config.zookeeper, connected; nullptr and a status when none within the lease timeout.
  Result<zhandle_t*> OpenSession();
  Status EnsureLayout();
  // Creates the worker node with the published status; waits up to `wait_us` for a same-named node to go.
  Status Register(int64_t wait_us);
  // The background thread: heartbeats, and replaces the session after it expired.
  void Supervise();
  void Heartbeat();
  void ReplaceExpiredSession();
  // Drops `name` from the held leases (if held at `epoch`), counting a loss when `lost`.
  void Forget(const std::string& name, int64_t epoch, bool lost);
  void UpdateHeldGauge();  // requires mu_
  void Confirmed(int64_t sent_us);
  static void Watcher(zhandle_t* zh, int type, int state, const char* path, void* context);

  std::string LeasePath(const std::string& name) const;
  std::string EpochPath(const std::string& name) const;
  std::string WorkerPath() const;

  const std::string hosts_;
  const std::string root_;  // without a trailing '/'; "" for "/"
  const int64_t lease_timeout_us_;
  const std::string worker_;
  Metrics* const metrics_;
  const std::string labels_;  // worker="<name>"

  // Guards zh_: operations hold it shared while they use the handle; replacing the handle holds it exclusive.
  mutable std::shared_mutex handle_mu_;
  zhandle_t* zh_ = nullptr;
  std::atomic<zhandle_t*> current_{nullptr};  // zh_, for the watcher (which must not take handle_mu_)
  std::atomic<bool> connected_{false};
  std::atomic<int64_t> confirmed_us_{0};  // steady clock: when the last request the server answered was sent
  std::atomic<int64_t> session_timeout_us_{0};

  mutable std::mutex mu_;  // guards what follows
  std::condition_variable cv_;
  std::map<std::string, int64_t> held_;  // lease name -> epoch, acquired on the current session
  int64_t generation_ = 0;               // sessions replaced so far; an acquisition on an older one is void
  std::string status_json_ = "{}";
  bool expired_ = false;
  bool stopping_ = false;
  std::thread supervisor_;
};

}  // namespace sluice
