// DashboardStore: the dashboards `sluice run` serves, re-read while it runs. Each request asks for the
// current snapshot; when the last look is older than the poll interval (2 s), the store lists the folder and
// re-reads the files whose modification time or size changed, so an edited, added or removed YAML file is
// served without a restart. A file that no longer parses keeps serving its last good version (a new file
// with an error is not served); the snapshot carries the errors ("file:line:column: field: message", one per
// line) for the page's banner, and each new error is logged once.
// Thread-safety: thread-safe. A snapshot is immutable: a request keeps the one it took, whatever reloads.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "serve/dashboard_config.h"

namespace sluice {

class DashboardStore {
 public:
  struct Snapshot {
    std::vector<Dashboard> dashboards;  // sorted by name
    std::string error;                  // the files' current errors, one per line; empty when every file parses

    // The dashboard named `name`, or null.
    const Dashboard* Find(const std::string& name) const;
  };

  // `config` must outlive the store.
  explicit DashboardStore(const Config& config,
                          std::chrono::steady_clock::duration poll_interval = std::chrono::seconds(2));

  // Reads every file, at start: any error is returned (Invalid with every error of every file, NotFound for
  // a missing folder), as LoadDashboards does; the store then serves what did parse.
  Status Load();

  // The current snapshot, after re-reading changed files when the last look is older than the poll
  // interval, or always with `force` (the list and definition requests: a page that is reloaded sees an
  // edit at once).
  std::shared_ptr<const Snapshot> Current(bool force = false);

 private:
  struct File {
    std::filesystem::file_time_type mtime;
    uintmax_t size = 0;
    std::optional<Dashboard> good;  // the last version that parsed
    std::string error;              // the current version's error; empty when it parses
  };
  // Re-reads changed files and publishes a new snapshot. Holds mu_.
  void Rescan();

  const Config& config_;
  const std::chrono::steady_clock::duration poll_interval_;
  std::mutex mu_;
  std::map<std::string, File> files_;  // by path
  std::string folder_error_;
  std::chrono::steady_clock::time_point last_scan_{};
  bool scanned_ = false;
  std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<Snapshot>();
};

}  // namespace sluice
