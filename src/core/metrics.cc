#include "core/metrics.h"

#include <algorithm>
#include <charconv>

namespace sluice {
namespace {

// Prometheus float text: the shortest form that reads back the same ("0.005", "10", "60.453").
std::string Number(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::string WithLabels(const std::string& labels, const std::string& extra) {
  if (labels.empty()) return extra.empty() ? "" : "{" + extra + "}";
  return "{" + labels + (extra.empty() ? "" : "," + extra) + "}";
}

}  // namespace

std::atomic<int64_t>& Metrics::Counter(const std::string& name, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = values_[name][labels];
  if (!slot) slot = std::make_unique<std::atomic<int64_t>>(0);
  return *slot;
}

int64_t Metrics::Get(const std::string& name, const std::string& labels) { return Counter(name, labels).load(); }

void Metrics::Observe(const std::string& name, const std::string& labels, double value) {
  Histogram* h;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = histograms_[name][labels];
    if (!slot) slot = std::make_unique<Histogram>();
    h = slot.get();
  }
  size_t bucket = std::lower_bound(kBuckets.begin(), kBuckets.end(), value) - kBuckets.begin();  // le: <=
  h->counts[bucket].fetch_add(1);
  h->sum.fetch_add(value);
}

Metrics& ProcessMetrics() {
  static Metrics* metrics = new Metrics();  // leaked on purpose: a run may end during static destruction
  return *metrics;
}

std::string Metrics::Render() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, series] : values_) {
    bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    out += "# TYPE " + name + (total ? " counter\n" : " gauge\n");
    for (const auto& [labels, v] : series)
      out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v->load()) + "\n";
  }
  for (const auto& [name, series] : histograms_) {
    out += "# TYPE " + name + " histogram\n";
    for (const auto& [labels, h] : series) {
      int64_t cumulative = 0;
      for (size_t i = 0; i <= kBuckets.size(); ++i) {
        cumulative += h->counts[i].load();
        std::string le = i < kBuckets.size() ? Number(kBuckets[i]) : "+Inf";
        out += name + "_bucket" + WithLabels(labels, "le=\"" + le + "\"") + " " + std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + WithLabels(labels, "") + " " + Number(h->sum.load()) + "\n";
      out += name + "_count" + WithLabels(labels, "") + " " + std::to_string(cumulative) + "\n";
    }
  }
  return out;
}

}  // namespace sluice
