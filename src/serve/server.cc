#include "serve/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "core/record_parser.h"
#include "serve/dashboard_routes.h"
#include "serve/format.h"
#include "serve/json_error.h"
#include "serve/query_routes.h"

namespace sluice {
Server::Server(const Config& config, Pipeline& pipeline) : config_(config), pipeline_(pipeline) {}

Server::~Server() { Stop(); }

Status Server::Start(const std::string& listen) {
  ASSIGN_OR_RETURN(dashboards_, LoadDashboards(config_));
  http_ = std::make_unique<httplib::Server>();
  auto& srv = *http_;
  std::string token;
  if (!config_.token_env.empty())
    if (const char* t = std::getenv(config_.token_env.c_str())) token = t;
  srv.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
    if (token.empty() || req.path == "/healthz" || req.path == "/metrics" || IsPublicDashboardPath(req.path))
      return httplib::Server::HandlerResponse::Unhandled;
    if (req.get_header_value("Authorization") == "Bearer " + token) return httplib::Server::HandlerResponse::Unhandled;
    SendJsonError(res, 401, "missing or wrong bearer token");
    return httplib::Server::HandlerResponse::Handled;
  });
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  srv.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(pipeline_.metrics().Render(), "text/plain; version=0.0.4");
  });
  srv.Post(R"(/ingest/([A-Za-z0-9_]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string stream = req.matches[1];
    const StreamConfig* s = config_.FindStream(stream);
    int64_t limit = 64LL << 20;
    if (s)
      for (const auto& sc : s->sources)
        if (sc.kind == "http") limit = sc.max_body_bytes;
    if (static_cast<int64_t>(req.body.size()) > limit)
      return SendJsonError(
          res, 413,
          "body of " + std::to_string(req.body.size()) + " bytes is over the limit of " + std::to_string(limit));
    auto r = pipeline_.Ingest(stream, req.body);
    if (!r.ok()) {
      if (r.status().IsNotFound()) return SendJsonError(res, 404, r.status().message());
      if (r.status().IsRetry()) {
        res.set_header("Retry-After", "1");
        return SendJsonError(res, 503, r.status().message());
      }
      return SendJsonError(res, 500, r.status().message());
    }
    std::string body = "{\"batch_id\":";
    AppendJsonString(body, r->batch_id);
    body += ",\"loaded\":" + std::to_string(r->loaded) + ",\"dead_lettered\":" + std::to_string(r->dead) + "}\n";
    res.set_content(body, "application/json");
  });
  RegisterQueryRoutes(srv, pipeline_);
  RegisterDashboardRoutes(srv, dashboards_, pipeline_, !token.empty());
  srv.set_payload_max_length(1LL << 30);  // the per-stream limit answers 413 with a clear message instead

  size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
  int port = colon == std::string::npos ? std::atoi(listen.c_str()) : std::atoi(listen.c_str() + colon + 1);
  if (port == 0)
    port_ = srv.bind_to_any_port(host);
  else
    port_ = srv.bind_to_port(host, port) ? port : -1;
  if (port_ <= 0) return Status::Io("cannot listen on " + listen + " (is another sluice running?)");
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  spdlog::info("serving on http://{}:{}", host, port_);
  return Status::Ok();
}

void Server::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice
