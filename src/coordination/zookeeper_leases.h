// ZooKeeperLeases: the WorkLeases of a worker that shares its pipeline (core/work_leases.h), over a
// Coordinator. It remembers the epoch of each name's latest acquisition in this process, so that Fence(name)
// checks that epoch: work begun under a lease that was lost since is refused (Stale), even if this worker
// acquired the name again later. Call Acquire at the start of each unit of work and Fence right before it
// commits.
// Thread-safety: thread-safe; the Coordinator must outlive it.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "coordination/coordinator.h"
#include "core/work_leases.h"

namespace sluice {

class ZooKeeperLeases final : public WorkLeases {
 public:
  explicit ZooKeeperLeases(Coordinator* coordinator) : coordinator_(coordinator) {}

  // True when this worker got `name` now or holds it already; false while another worker holds it; Retry
  // when ZooKeeper cannot be reached.
  Result<bool> Acquire(const std::string& name) override;
  // Stale when `name` was never acquired here, or was lost or taken over since its latest acquisition; Retry
  // when ZooKeeper cannot be reached (do not commit now).
  Status Fence(const std::string& name) override;
  void Release(const std::string& name) override;
  // False when `name` was never acquired here, was released or lost, or the session is not confirmed lately
  // (Coordinator::Holds).
  bool StillHeld(const std::string& name) override;

 private:
  Coordinator* const coordinator_;
  std::mutex mu_;
  std::map<std::string, Lease> leases_;  // name -> its latest acquisition here
};

}  // namespace sluice
