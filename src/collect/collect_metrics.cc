#include "collect/collect_metrics.h"

namespace sluice {

void CountRunEnd(const RunRecord& run) {
  std::string collector;  // config names; quotes and backslashes would break the exposition format
  for (char c : run.collector) collector += (c == '"' || c == '\\' || c == '\n') ? '_' : c;
  ProcessMetrics().Add("sluice_collector_runs_total",
                       "collector=\"" + collector + "\",status=\"" + RunStatusName(run.status) + "\"", 1);
}

}  // namespace sluice
