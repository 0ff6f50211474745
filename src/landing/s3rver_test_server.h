// S3rverProcess: a real S3 server (s3rver 3.7.1, installed under tests/s3rver by scripts/setup) on loopback for
// tests: started on a free port over a temporary directory with the buckets asked for, stopped by its PID.
// s3rver does not verify SigV4 signatures (sigv4_test.cc and sigv4_botocore_test.cc check the signer); it does
// require a known access key id: S3RVER, secret S3RVER. Header-only, for test binaries only.
// Thread-safety: Start and Stop from one thread.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace sluice::testing {

class S3rverProcess {
 public:
  S3rverProcess() = default;
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;
  ~S3rverProcess() { Stop(); }

  // Starts s3rver with `buckets` created; `source_dir` is the sluice checkout (SLUICE_SOURCE_DIR).
  Status Start(const std::string& source_dir, const std::vector<std::string>& buckets) {
    namespace fs = std::filesystem;
    const fs::path script = fs::path(source_dir) / "tests/s3rver/node_modules/s3rver/bin/s3rver.js";
    if (!fs::exists(script))
      return Status::NotFound(script.string() + " is missing: scripts/setup installs it (npm ci in tests/s3rver)");
    static int serial = 0;
    dir_ = fs::temp_directory_path() / ("sluice-s3rver-" + std::to_string(getpid()) + "-" + std::to_string(++serial));
    fs::create_directories(dir_);
    port_ = FreePort();
    std::vector<std::string> args = {
        "node",   "--openssl-legacy-provider", script.string(), "--directory", dir_.string(), "--address", "127.0.0.1",
        "--port", std::to_string(port_),       "--silent"};
    for (const auto& b : buckets) {
      args.push_back("--configure-bucket");
      args.push_back(b);
    }
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      // s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3) only offers
      // through the legacy provider: without it every truncated listing is a 500.
      execvp("node", argv.data());
      _exit(127);
    }
    if (pid_ < 0) return Status::Io("fork failed");
    for (int i = 0; i < 200 && !Accepts(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!Accepts(port_)) return Status::Io("s3rver did not start on port " + std::to_string(port_));
    return Status::Ok();
  }

  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

  static int FreePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }

 private:
  static bool Accepts(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path dir_;
};

}  // namespace sluice::testing
