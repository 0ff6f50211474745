// TestHttpServer: a real HTTP server on 127.0.0.1 and a random port, for tests that drive HttpClient and the
// collectors over real sockets (cpp-httplib). Handlers are registered on `server()` before Start().
// Thread-safety: handlers run on the server's worker threads; guard shared test state accordingly.
// Test-only: include from *_test.cc files.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace sluice {

class TestHttpServer {
 public:
  TestHttpServer() = default;
  ~TestHttpServer() { Stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  httplib::Server& server() { return server_; }

  // Binds to a free loopback port and serves on a background thread. Returns false if binding failed.
  bool Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return false;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return server_.is_running();
  }
  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sluice
