#include "coordination/zookeeper_leases.h"

namespace sluice {

Result<bool> ZooKeeperLeases::Acquire(const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<Lease> lease, coordinator_->TryAcquire(name));
  if (!lease) return false;
  std::lock_guard<std::mutex> lock(mu_);
  leases_[name] = *lease;
  return true;
}

Status ZooKeeperLeases::Fence(const std::string& name) {
  Lease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = leases_.find(name);
    if (it == leases_.end()) {
      return Status::Stale("lease '" + name + "' was not acquired by worker '" + coordinator_->worker() + "'");
    }
    lease = it->second;
  }
  return coordinator_->Fence(lease);
}

void ZooKeeperLeases::Release(const std::string& name) {
  Lease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = leases_.find(name);
    if (it == leases_.end()) return;
    lease = it->second;
    leases_.erase(it);
  }
  coordinator_->Release(lease);
}

bool ZooKeeperLeases::StillHeld(const std::string& name) {
  Lease lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = leases_.find(name);
    if (it == leases_.end()) return false;
    lease = it->second;
  }
  return coordinator_->Holds(lease);
}

}  // namespace sluice
