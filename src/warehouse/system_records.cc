#include "warehouse/system_records.h"

namespace sluice {

const char* RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kSucceeded:
      return "succeeded";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kPartial:
      return "partial";
  }
  return "unknown";
}

RunStatus ParseRunStatus(const std::string& name) {
  if (name == "succeeded") return RunStatus::kSucceeded;
  if (name == "failed") return RunStatus::kFailed;
  if (name == "partial") return RunStatus::kPartial;
  return RunStatus::kRunning;
}

}  // namespace sluice
