#include "serve/dashboard_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sluice {

const Dashboard* DashboardStore::Snapshot::Find(const std::string& name) const {
  for (const Dashboard& d : dashboards)
    if (d.name == name) return &d;
  return nullptr;
}

DashboardStore::DashboardStore(const Config& config, std::chrono::steady_clock::duration poll_interval)
    : config_(config), poll_interval_(poll_interval) {}

Status DashboardStore::Load() {
  std::lock_guard lock(mu_);
  Rescan();
  if (!folder_error_.empty()) return Status::NotFound(folder_error_);
  if (!snapshot_->error.empty()) return Status::Invalid(snapshot_->error);
  return Status::Ok();
}

std::shared_ptr<const DashboardStore::Snapshot> DashboardStore::Current(bool force) {
  std::lock_guard lock(mu_);
  if (force || std::chrono::steady_clock::now() - last_scan_ >= poll_interval_) Rescan();
  return snapshot_;
}

void DashboardStore::Rescan() {
  last_scan_ = std::chrono::steady_clock::now();
  bool changed = !scanned_;
  scanned_ = true;
  auto listed = DashboardFiles(config_);
  if (!listed.ok()) {
    // The folder went away (or is being replaced): keep serving what was read, and say so.
    if (folder_error_ != listed.status().message())
      spdlog::error("dashboards: {}; still serving the last good versions", listed.status().message());
    changed |= folder_error_ != listed.status().message();
    folder_error_ = listed.status().message();
  } else {
    changed |= !folder_error_.empty();
    folder_error_.clear();
    std::map<std::string, File> next;
    for (const std::string& path : *listed) {
      std::error_code ec;
      File f;
      f.mtime = std::filesystem::last_write_time(path, ec);
      f.size = std::filesystem::file_size(path, ec);
      auto old = files_.find(path);
      if (old != files_.end() && old->second.mtime == f.mtime && old->second.size == f.size) {
        next.emplace(path, std::move(old->second));
        continue;
      }
      changed = true;
      if (old != files_.end()) f.good = std::move(old->second.good);
      auto d = LoadDashboardFile(path, config_);
      if (d.ok()) {
        if (old != files_.end()) spdlog::info("dashboards: reloaded {}", path);
        f.good = std::move(*d);
      } else {
        f.error = d.status().message();
        spdlog::error("dashboards: {}{}", f.error,
                      f.good ? "\n(still serving the last good version of " + path + ")" : std::string());
      }
      next.emplace(path, std::move(f));
    }
    for (const auto& [path, f] : files_) {
      if (next.count(path)) continue;
      spdlog::info("dashboards: {} was removed", path);
      changed = true;
    }
    files_ = std::move(next);
  }
  if (!changed) return;
  auto snap = std::make_shared<Snapshot>();
  std::map<std::string, std::string> seen;  // name -> file
  snap->error = folder_error_;
  for (const auto& [path, f] : files_) {
    if (!f.error.empty()) snap->error += (snap->error.empty() ? "" : "\n") + f.error;
    if (!f.good) continue;
    if (auto it = seen.find(f.good->name); it != seen.end()) {
      snap->error += (snap->error.empty() ? "" : "\n") + path + ": dashboard '" + f.good->name +
                     "' is also defined in " + it->second;
      continue;
    }
    seen[f.good->name] = path;
    snap->dashboards.push_back(*f.good);
  }
  std::sort(snap->dashboards.begin(), snap->dashboards.end(),
            [](const Dashboard& a, const Dashboard& b) { return a.name < b.name; });
  snapshot_ = std::move(snap);
}

}  // namespace sluice
