// Helpers for end-to-end tests: a scratch folder per test, running the sluice binary and reading its output,
// starting it in the background and killing it.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace sluice::e2e {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `sluice ARGS...` to completion.
CommandResult RunSluice(const std::vector<std::string>& args);
// Starts `sluice ARGS...` in the background with output to `log_path`; returns its pid.
pid_t StartSluice(const std::vector<std::string>& args, const std::string& log_path);
// Starts any program in the background with output to `log_path`; returns its pid.
pid_t StartProgram(const std::string& program, const std::vector<std::string>& args, const std::string& log_path);
// Waits for `pid`; returns its exit code, or 128+signal.
int WaitFor(pid_t pid);

// The single value of a query ("" on error), through `sluice query --format csv`.
std::string QueryScalar(const std::string& config, const std::string& sql);

// The real GitHub hour beside the checkout ("" when ../shared/data is absent).
std::string GithubSamplePath();

// A fresh folder for one test, removed afterwards.
class ScratchDir : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string Path(const std::string& rel) const { return (dir_ / rel).string(); }
  // Writes `text` to `rel` and returns its path.
  std::string Write(const std::string& rel, const std::string& text) const;
  std::filesystem::path dir_;
};

// A free TCP port on 127.0.0.1.
int FreePort();
// The top of a `sluice run` config in a scratch dir: the warehouse and landing beside it, the server on `port`.
std::string ServedConfigHead(int port);
// HTTP on loopback: returns status code and body.
std::pair<int, std::string> HttpPost(int port, const std::string& path, const std::string& body);
std::pair<int, std::string> HttpGet(int port, const std::string& path);
// Polls GET /healthz until it answers or `seconds` pass.
bool WaitHealthy(int port, int seconds);

}  // namespace sluice::e2e
