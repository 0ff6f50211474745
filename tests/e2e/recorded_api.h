// RecordedApi: serves a recipe's recorded API responses (examples/collectors/recordings/<recipe>.json) on
// loopback, so a collector recipe runs end to end with no network. A request is answered by the recorded
// response whose path and query parameters equal its own; a recorded request header the request lacks (the
// Accept a recipe must send) is a 400 naming it, anything unrecorded a 404. "{{base_url}}" in bodies and
// headers (Link, next URLs) becomes the server's URL, so pages lead back to it.
// Thread-safety: handlers run on the server's threads; the hit counts are atomic.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/http_test_server.h"

namespace sluice::e2e {

class RecordedApi {
 public:
  // Loads `recording` (a recordings/*.json path) and starts serving it; ok() says whether both worked.
  explicit RecordedApi(const std::string& recording);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string base_url() const { return server_.base_url(); }
  const nlohmann::json& recording() const { return recording_; }
  // How often each recorded response was served, in recording order.
  std::vector<int> Hits() const;
  // What the server could not answer from the recording ("GET /x?y: why"), in arrival order.
  std::vector<std::string> Misses() const;
  // Authorization headers received (to check a token went where it should, and nowhere else).
  std::vector<std::string> Authorizations() const;

 private:
  void Serve(const httplib::Request& req, httplib::Response& res);

  nlohmann::json recording_;
  std::string error_;
  std::unique_ptr<std::atomic<int>[]> hits_;
  mutable std::mutex mu_;
  std::vector<std::string> misses_;
  std::vector<std::string> authorizations_;
  TestHttpServer server_;
};

// Every recipe file (examples/collectors/*.yaml) by name (the file's stem), sorted.
std::vector<std::string> RecipeNames();
std::string RecipePath(const std::string& name);
std::string RecordingPath(const std::string& name);

}  // namespace sluice::e2e
