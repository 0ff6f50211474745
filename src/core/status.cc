#include "core/status.h"

namespace sluice {

std::string Status::ToString() const {
  static constexpr const char* kNames[] = {"OK",       "Invalid",  "NotFound",  "Retry",     "AlreadyExists",
                                           "IO error", "Internal", "Cancelled", "Timed out", "Stale"};
  if (ok()) return "OK";
  return std::string(kNames[static_cast<int>(code_)]) + ": " + message_;
}

}  // namespace sluice
