// WorkLeases: who may do the work that must run on one worker at a time when several `sluice run --worker`
// processes share a pipeline: a transform target, a collector's schedule, a file source, a Kafka partition's
// handover. Acquire before starting, Fence right before committing, Release when done. The ZooKeeper-backed
// implementation (coordination/) gives each acquisition a new epoch; Fence asks ZooKeeper whether this
// worker still holds the lease at that epoch, so a stale owner (paused past its lease timeout, its lease
// since taken over) is refused before it commits. One process alone uses LocalLeases: everything is its own.
// Thread-safety: implementations are thread-safe.
#pragma once

#include <string>

#include "core/status.h"

namespace sluice {

class WorkLeases {
 public:
  virtual ~WorkLeases() = default;

  // Whether this worker holds `name` now: acquires it when free; false (not an error) while another worker
  // holds it. Holding it already is true.
  virtual Result<bool> Acquire(const std::string& name) = 0;
  // Ok only if this worker still holds `name` at the epoch it acquired; an error to abandon the commit
  // otherwise (the work will be redone by the lease's new owner).
  virtual Status Fence(const std::string& name) = 0;
  // Gives `name` up (others may acquire it at once). Releasing a lease not held does nothing.
  virtual void Release(const std::string& name) = 0;
  // A local check, no round trip, for stopping long work early: false once this worker cannot be sure it
  // still holds `name` (ZooKeeper has not confirmed its session lately), which comes before the session can
  // expire and the lease pass on. True does not replace Fence before a commit.
  virtual bool StillHeld(const std::string& name) {
    (void)name;
    return true;
  }
};

// One process: every lease is always held and always fences.
class LocalLeases final : public WorkLeases {
 public:
  Result<bool> Acquire(const std::string&) override { return true; }
  Status Fence(const std::string&) override { return Status::Ok(); }
  void Release(const std::string&) override {}
};

}  // namespace sluice
