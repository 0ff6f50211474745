#include "serve/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "serve/access.h"
#include "serve/dashboard_routes.h"
#include "serve/exposure.h"
#include "serve/http_metrics.h"
#include "serve/ingest_route.h"
#include "serve/json_error.h"
#include "serve/query_routes.h"
#include "serve/raw_body.h"

namespace sluice {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The request now being served on this thread: when it started, and its path as sent (a refused request's
// path is rewritten below). httplib runs one request's hooks (100-continue, pre-routing, the logger) on one
// pool thread, one request at a time, and offers no per-request slot.
thread_local SteadyClock::time_point t_request_start{};
thread_local std::string t_request_path;

// Where a refused request that carries a body is sent to have its body read and dropped.
constexpr char kRefusedPath[] = "/_sluice/refused";
// A connection holds one of the server's threads while its handler runs, and an ingest handler waits for its
// group's commit: with httplib's default (max(8, cores - 1)) 20 clients posting at once queued behind eight
// instead of sharing one group commit.
constexpr size_t kServerThreads = 32;

bool CarriesBody(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

Server::Server(const Config& config, Pipeline& pipeline, std::shared_ptr<Readers> readers)
    : config_(config), pipeline_(pipeline), readers_(std::move(readers)) {}

Server::~Server() { Stop(); }

Status Server::Start(const std::string& listen) {
  ASSIGN_OR_RETURN(std::string token, ResolveServerToken(config_, listen));
  ASSIGN_OR_RETURN(ListenAddress address, ParseListen(listen));
  dashboards_ = std::make_unique<DashboardStore>(config_);
  RETURN_IF_ERROR(dashboards_->Load());
  http_ = std::make_unique<httplib::Server>();
  auto& srv = *http_;
  srv.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // The library listens with a backlog of 5; 20 clients connecting at once overflowed it and some lost their
  // request. The listening socket is noted here and listened on again, with the system's maximum, once bound.
  int listening = -1;
  srv.set_socket_options([&listening](socket_t sock) {
    httplib::default_socket_options(sock);
    listening = sock;  // the last socket made is the one that bound
  });

  AccessPolicy policy{token, [](const std::string& path) {
                        return path == "/healthz" || path == "/metrics" || IsPublicDashboardPath(path);
                      }};
  auto refuse = [policy](const httplib::Request& req, httplib::Response& res) {
    auto refusal =
        CheckAccess(policy, {req.method, req.path, req.get_header_value("Host"), req.get_header_value("Origin"),
                             req.get_header_value("Sec-Fetch-Site"), req.get_header_value("Authorization")});
    if (refusal) {
      SendJsonError(res, refusal->code, refusal->message);
      return true;
    }
    // httplib inflates a gzip, deflate or br body itself, with no bound on the inflated size, for every route
    // but the ingest route (which reads the raw body and decodes within max_body).
    std::string encoding = req.get_header_value("Content-Encoding");
    if (CarriesBody(req.method) && !encoding.empty() && encoding != "identity" &&
        RouteLabel(req.path) != "/ingest/<stream>") {
      SendJsonError(res, 415, "Content-Encoding '" + encoding + "' is accepted only on POST /ingest/<stream>");
      return true;
    }
    return false;
  };
  // A refused request's body is still read (and dropped) before the answer: left on a kept-alive connection
  // it would be parsed as the next request, so a page could smuggle a same-origin-looking POST inside the
  // body of a refused cross-site one. httplib reads a body only for a route, hence the rewritten path.
  srv.set_pre_routing_handler([refuse](const httplib::Request& req, httplib::Response& res) {
    t_request_start = SteadyClock::now();
    t_request_path = req.path;
    if (!refuse(req, res)) return httplib::Server::HandlerResponse::Unhandled;
    if (!CarriesBody(req.method)) return httplib::Server::HandlerResponse::Handled;
    const_cast<httplib::Request&>(req).path = kRefusedPath;  // the server's own Request, mutable
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // No body is read past the largest max_body of an http source. A client that asks first (curl does past
  // 1 MB, with "Expect: 100-continue") is refused before it sends anything; otherwise httplib reads and drops
  // an over-long body and the route (or the error handler below) answers 413.
  const int64_t max_body = MaxHttpBodyLimit(config_);
  srv.set_payload_max_length(static_cast<size_t>(max_body));
  auto over_limit_message = [max_body](const httplib::Request& req) {
    return "body of " + req.get_header_value("Content-Length") + " bytes is over the server's limit of " +
           std::to_string(max_body) + " bytes (the largest max_body of an http source)";
  };
  srv.set_expect_100_continue_handler(
      [refuse, max_body, over_limit_message](const httplib::Request& req, httplib::Response& res) {
        t_request_start = SteadyClock::now();
        t_request_path = req.path;
        bool refused = refuse(req, res);
        if (!refused && std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
                            static_cast<unsigned long long>(max_body)) {
          SendJsonError(res, 413, over_limit_message(req));
          refused = true;
        }
        if (!refused) return 100;
        // httplib writes this answer without the length a kept-alive client needs to find its end.
        res.set_header("Content-Length", std::to_string(res.body.size()));
        return res.status;
      });
  // httplib's own refusals (a form POST past the limit on another route, an unknown path) carry no body.
  srv.set_error_handler(
      httplib::Server::HandlerWithResponse([over_limit_message](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413)
          SendJsonError(res, 413, over_limit_message(req));
        else if (res.status == 404)
          SendJsonError(res, 404, "no route for " + req.method + " " + req.path);
        else
          SendJsonError(res, res.status, res.status == 400 ? "bad request" : "HTTP " + std::to_string(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  // Every answered request, whatever answered it, is counted and timed here.
  srv.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double seconds = -1;
    if (t_request_start != SteadyClock::time_point{})
      seconds = std::chrono::duration<double>(SteadyClock::now() - t_request_start).count();
    RecordHttpRequest(pipeline_.metrics(), t_request_path.empty() ? req.path : t_request_path, res.status, seconds);
    t_request_start = {};
    t_request_path.clear();
  });
  auto drain_refused = [max_body](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
    int code = res.status;
    std::string body = res.body;
    DrainBody(req, reader, max_body);
    res.status = code;  // httplib answers 413 for an over-long body; the refusal stands
    res.body = body;
  };
  srv.Post(kRefusedPath, drain_refused);
  srv.Put(kRefusedPath, drain_refused);
  srv.Patch(kRefusedPath, drain_refused);
  srv.Delete(kRefusedPath, drain_refused);

  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  srv.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(pipeline_.metrics().Render() + ProcessMetrics().Render(), "text/plain; version=0.0.4");
  });
  RegisterIngestRoute(srv, config_, pipeline_, max_body);
  const ReadLimits limits{config_.query_timeout_us, config_.max_rows};
  auto chart_export =
      RegisterDashboardRoutes(srv, *dashboards_, *readers_, limits, pipeline_.metrics(), !token.empty());
  RegisterQueryRoutes(srv, *readers_, limits, pipeline_.metrics(), chart_export);

  if (address.port == 0)
    port_ = srv.bind_to_any_port(address.host);
  else
    port_ = srv.bind_to_port(address.host, address.port) ? address.port : -1;
  if (port_ <= 0) return Status::Io("cannot listen on " + listen + " (is another sluice running?)");
  if (listening >= 0 && ::listen(listening, SOMAXCONN) != 0)
    spdlog::warn("could not raise the listen backlog: {}", std::strerror(errno));
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  spdlog::info("serving on http://{}:{}{}",
               address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host, port_,
               token.empty() ? " (loopback, no token)" : " (bearer token required)");
  return Status::Ok();
}

void Server::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice
