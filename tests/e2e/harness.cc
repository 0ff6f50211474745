#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

namespace sluice::e2e {

namespace {
std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}
}  // namespace

CommandResult RunSluice(const std::vector<std::string>& args) {
  std::string cmd = ShellQuote(SLUICE_BIN);
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  cmd += " 2>&1";
  CommandResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

pid_t StartSluice(const std::vector<std::string>& args, const std::string& log_path) {
  return StartProgram(SLUICE_BIN, args, log_path);
}

pid_t StartProgram(const std::string& program, const std::vector<std::string>& args, const std::string& log_path) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    std::string bin = program;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  return pid;
}

int WaitFor(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string QueryScalar(const std::string& config, const std::string& sql) {
  CommandResult r = RunSluice({"query", "-c", config, "--format", "csv", sql});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "query failed: " << sql << "\n" << r.output;
    return "";
  }
  // Header line, then the value.
  size_t nl = r.output.find("\r\n");
  if (nl == std::string::npos) return "";
  std::string v = r.output.substr(nl + 2);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {  // a quoted CSV cell
    std::string unq;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      unq += v[i];
      if (v[i] == '"') ++i;
    }
    return unq;
  }
  return v;
}

std::string GithubSamplePath() {
  auto p = std::filesystem::path(SLUICE_SOURCE_DIR) / ".." / "shared" / "data" / "gharchive-2015-01-01-12.json.gz";
  return std::filesystem::exists(p) ? std::filesystem::canonical(p).string() : "";
}

void ScratchDir::SetUp() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = std::filesystem::temp_directory_path() /
         ("sluice_e2e_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
}

void ScratchDir::TearDown() {
  if (!HasFailure()) std::filesystem::remove_all(dir_);
}

std::string ScratchDir::Write(const std::string& rel, const std::string& text) const {
  auto p = dir_ / rel;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string ServedConfigHead(int port) {
  return "warehouse: { path: wh.duckdb }\nlanding: { path: landing }\nserver: { listen: 127.0.0.1:" +
         std::to_string(port) + " }\n";
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

std::pair<int, std::string> HttpPost(int port, const std::string& path, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  auto r = c.Post(path, body, "application/x-ndjson");
  if (!r) return {0, ""};
  return {r->status, r->body};
}

std::pair<int, std::string> HttpGet(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  auto r = c.Get(path);
  if (!r) return {0, ""};
  return {r->status, r->body};
}

bool WaitHealthy(int port, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (HttpGet(port, "/healthz").first == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace sluice::e2e
