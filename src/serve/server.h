// Server: sluice's HTTP API while `sluice run` owns the warehouse.
//   POST /ingest/<stream>   NDJSON body; answers after the batch holding it committed:
//                           {"batch_id":..,"loaded":n,"dead_lettered":n}; 413 past the size limit; 503 when
//                           the pipeline is behind (with Retry-After), 404 for an unknown stream.
//   GET|POST /api/query     sql=...&format=json|csv|table; runs read-only SQL on the warehouse.
//   GET /api/export.csv     sql=...; the same as CSV, as a download.
//   GET /metrics            Prometheus text of every counter.
//   GET /healthz            ok
//   GET /, /dashboards/<name>, /api/dashboards/...   the dashboards (dashboard_routes.h)
// When server.token_env names a set environment variable, every endpoint but /healthz, /metrics and the
// dashboard page with its assets (which hold no data) needs "Authorization: Bearer <token>".
// Thread-safety: Start/Stop from one thread; handlers run on the server's thread pool.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "batching/pipeline.h"
#include "core/config.h"
#include "serve/dashboard_config.h"

namespace httplib {
class Server;
}

namespace sluice {

class Server {
 public:
  Server(const Config& config, Pipeline& pipeline);
  ~Server();
  // Loads the dashboards (an invalid one is an error here, at start), binds `listen` (host:port; port 0
  // picks a free one) and serves on a background thread.
  Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  const Config& config_;
  Pipeline& pipeline_;
  std::vector<Dashboard> dashboards_;  // read at Start; the routes hold references into it
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sluice
