#include "core/metrics.h"

namespace sluice {

std::atomic<int64_t>& Metrics::Counter(const std::string& name, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = values_[name][labels];
  if (!slot) slot = std::make_unique<std::atomic<int64_t>>(0);
  return *slot;
}

int64_t Metrics::Get(const std::string& name, const std::string& labels) { return Counter(name, labels).load(); }

std::string Metrics::Render() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, series] : values_) {
    bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    out += "# TYPE " + name + (total ? " counter\n" : " gauge\n");
    for (const auto& [labels, v] : series)
      out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v->load()) + "\n";
  }
  return out;
}

}  // namespace sluice
