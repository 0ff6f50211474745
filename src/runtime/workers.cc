#include "runtime/workers.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "coordination/zookeeper_leases.h"

namespace sluice {

std::string DefaultWorkerName() {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof host, "host");
  return std::string(host) + "-" + std::to_string(::getpid());
}

Result<WorkerSeat> TakeSeat(const Config& config, const std::string& worker, Metrics& metrics) {
  WorkerSeat seat;
  seat.name = worker;
  if (config.zookeeper.empty()) return seat;
  if (seat.name.empty()) seat.name = DefaultWorkerName();
  ASSIGN_OR_RETURN(seat.coordinator, Coordinator::Connect(config, seat.name, &metrics));
  seat.leases = std::make_unique<ZooKeeperLeases>(seat.coordinator.get());
  spdlog::info("worker {}: joined {} under {}", seat.name, config.zookeeper, config.coordination_root);
  return seat;
}

StatusPublisher::StatusPublisher(Coordinator* coordinator, std::function<std::string()> describe,
                                 std::chrono::milliseconds period)
    : thread_([coordinator, describe = std::move(describe), period](std::stop_token stop) {
        while (!stop.stop_requested()) {
          Status st = coordinator->Publish(describe());
          if (!st.ok()) spdlog::debug("publishing worker status: {}", st.message());
          for (auto left = period; left.count() > 0 && !stop.stop_requested(); left -= std::chrono::milliseconds(100))
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }) {}

StatusPublisher::~StatusPublisher() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice
