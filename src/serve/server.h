// Server: sluice's HTTP API while `sluice run` owns the warehouse.
//   POST /ingest/<stream>   NDJSON body (any Content-Type; gzip or zstd Content-Encoding): ingest_route.h.
//   GET|POST /api/query     sql=...&format=json|csv|table; runs read-only SQL on the warehouse (query_routes.h).
//   GET /api/export.csv     sql=...; the same as CSV, as a download.
//   GET /metrics            Prometheus text of every counter, with sluice_http_requests_total{route,code} and
//                           the sluice_http_request_seconds{route} histogram (http_metrics.h).
//   GET /healthz            ok
//   GET /, /dashboards/<name>, /api/dashboards/...   the dashboards (dashboard_routes.h)
// Exposure (exposure.h, access.h): without a token, Start refuses a listen address other than loopback, and
// requests must name a loopback Host (DNS rebinding) and, when they change state, come from no other origin
// (403). A server.token_env naming an unset or empty variable is an error at Start. With a token, every
// endpoint but /healthz, /metrics and the dashboard page with its assets (which hold no data) needs
// "Authorization: Bearer <token>" (401), compared in constant time, from any host.
// No request body longer than the largest http source max_body (64 MiB without one) is read (413).
// Thread-safety: Start/Stop from one thread; handlers run on the server's thread pool.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "batching/pipeline.h"
#include "core/config.h"
#include "serve/dashboard_store.h"
#include "warehouse/reader.h"

namespace httplib {
class Server;
}

namespace sluice {

class Server {
 public:
  // People's queries (query API, dashboards) run on `readers`, never on the pipeline's loader connection.
  Server(const Config& config, Pipeline& pipeline, std::shared_ptr<Readers> readers);
  ~Server();
  // Checks the exposure rules (Invalid with the reason, naming the config field), loads the dashboards (an
  // invalid one is an error here, at start; later edits are reloaded: dashboard_store.h), binds `listen`
  // (host:port or [v6]:port; port 0 picks a free one) and serves on a background thread.
  Status Start(const std::string& listen);
  void Stop();
  int port() const { return port_; }

 private:
  const Config& config_;
  Pipeline& pipeline_;
  std::shared_ptr<Readers> readers_;
  std::unique_ptr<DashboardStore> dashboards_;  // read at Start, re-read as the files change
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sluice
