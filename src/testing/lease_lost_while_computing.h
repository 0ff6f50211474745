// LeaseLostWhileComputing: a worker's leases as they look when the worker loses them in the middle of its
// work (paused past the lease timeout, or cut off from ZooKeeper while the warehouse still answers). Every
// lease is held, and Fence refuses (Stale) once `lost()` says the moment has come; tests make `lost` look at
// how far the owner's work got, so they check that the fence comes after the long part, not before it.
// Test-only. Thread-safety: not thread-safe.
#pragma once

#include <functional>
#include <string>
#include <utility>

#include "core/work_leases.h"

namespace sluice::testing {

class LeaseLostWhileComputing final : public WorkLeases {
 public:
  explicit LeaseLostWhileComputing(std::function<bool()> lost) : lost_(std::move(lost)) {}

  int fences() const { return fences_; }

  Result<bool> Acquire(const std::string&) override { return true; }
  Status Fence(const std::string& name) override {
    ++fences_;
    return lost_() ? Status::Stale("lease " + name + " passed to another worker") : Status::Ok();
  }
  void Release(const std::string&) override {}

 private:
  std::function<bool()> lost_;
  int fences_ = 0;
};

}  // namespace sluice::testing
