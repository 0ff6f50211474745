#include "runtime/stop_signals.h"

#include <atomic>
#include <csignal>

namespace sluice {
namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

}  // namespace

void InstallStopSignals() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

bool StopRequested() { return g_stop; }

}  // namespace sluice
