// Workers: what lets several `sluice run -c FILE --worker NAME` processes share one pipeline. With
// `coordination:` in the config, a worker joins ZooKeeper (registered under its name) and takes leases for
// the work that must run once (transform groups, collector schedules, undeclared file sources); every
// couple of seconds it publishes what it holds (Kafka partitions, its HTTP partition, leases) for `sluice
// status`. Without coordination a process works alone: every lease is its own.
// Thread-safety: Publisher runs its own thread; the rest is set up and torn down by RunPipeline's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "coordination/coordinator.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/work_leases.h"

namespace sluice {

// "<host>-<pid>": the name of a worker started without --worker.
std::string DefaultWorkerName();

struct WorkerSeat {
  std::string name;                          // empty when alone without --worker
  std::unique_ptr<Coordinator> coordinator;  // null without coordination
  std::unique_ptr<WorkLeases> leases;        // null without coordination (the pipeline's work is all its own)
};

// Joins the workers of `config` as `worker` (DefaultWorkerName() when empty and coordinated). Fails at start
// when ZooKeeper cannot be reached or a live worker has that name.
Result<WorkerSeat> TakeSeat(const Config& config, const std::string& worker, Metrics& metrics);

// Publishes `describe()` (a JSON document) as the worker's status every `period` until destroyed.
class StatusPublisher {
 public:
  StatusPublisher(Coordinator* coordinator, std::function<std::string()> describe,
                  std::chrono::milliseconds period = std::chrono::milliseconds(2000));
  ~StatusPublisher();

 private:
  std::jthread thread_;
};

}  // namespace sluice
