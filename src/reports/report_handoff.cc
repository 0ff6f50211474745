#include "reports/report_handoff.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/http_client.h"

extern char** environ;

namespace sluice {
namespace {

constexpr size_t kOutputKept = 2048;  // the end of the command's output, for the run's error

// Kills the command's whole process group (the shell and whatever it started) and reaps the shell.
void KillGroup(pid_t pid) {
  ::kill(-pid, SIGTERM);
  for (int i = 0; i < 20; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    ::usleep(50'000);
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

Status RunReportCommand(const std::string& command, const ReportFile& file, std::chrono::milliseconds timeout,
                        std::stop_token stop) {
  // Everything the child needs is built before fork: only async-signal-safe calls may follow it.
  std::vector<std::string> env_strings = {"SLUICE_REPORT=" + file.report, "SLUICE_REPORT_FILE=" + file.path,
                                          "SLUICE_REPORT_LOCATOR=" + file.locator, "SLUICE_REPORT_SLOT=" + file.slot};
  std::vector<char*> envp;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "SLUICE_REPORT", 13) != 0) envp.push_back(*e);
  }
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command, arg0 = "sluice-report", path = file.path;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), arg0.data(), path.data(), nullptr};

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Status::Io(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Status::Io(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    // Nothing of sluice's (the DuckDB file, the server's socket) may outlive it in a command left running.
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv, envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before any kill below
  ::close(out[1]);

  std::string output;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status failure;
  bool open = true;
  while (open) {
    if (stop.stop_requested()) {
      failure = Status::Cancelled("command stopped: sluice is shutting down");
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      failure =
          Status::TimedOut("command timed out after " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) + "s");
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[4096];
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n > 0) {
        output.append(buf, static_cast<size_t>(n));
        if (output.size() > 4 * kOutputKept) output.erase(0, output.size() - kOutputKept);
      } else if (n == 0 || errno != EINTR) {
        open = false;  // the command (and everything holding its output) is done
      }
    }
  }
  ::close(out[0]);
  // Its output closed; the shell may still be running (it closed its stdout): wait within the same bounds.
  int status = 0;
  while (failure.ok()) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return Status::Io(std::string("waitpid: ") + std::strerror(errno));
    if (stop.stop_requested())
      failure = Status::Cancelled("command stopped: sluice is shutting down");
    else if (std::chrono::steady_clock::now() >= deadline)
      failure = Status::TimedOut("command timed out");
    else
      ::usleep(20'000);
  }
  if (!failure.ok()) {
    KillGroup(pid);
    return failure;
  }
  if (output.size() > kOutputKept) output.erase(0, output.size() - kOutputKept);
  while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
  if (!output.empty()) spdlog::info("report {}: command: {}", file.report, output);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  const std::string how = WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                            : "was killed by signal " + std::to_string(WTERMSIG(status));
  return Status::Invalid("command " + how + (output.empty() ? "" : ": " + output));
}

Status PostReportWebhook(const std::string& url, const ReportFile& file, const std::string& bytes,
                         std::chrono::milliseconds timeout, std::stop_token stop, Clock* clock) {
  HttpClientOptions options;
  options.timeout = timeout;
  options.max_attempts = 3;
  options.max_rate_limit_waits = 2;
  options.max_wait = std::chrono::seconds(60);
  options.etag_cache = nullptr;
  options.stop = std::move(stop);
  options.clock = clock;
  HttpClient client(std::move(options));
  HttpHeaders headers = {{"Content-Type", file.content_type},
                         {"Content-Disposition", "attachment; filename=\"" + file.file_name + "\""},
                         {"X-Sluice-Report", file.report},
                         {"X-Sluice-Report-Slot", file.slot}};
  ASSIGN_OR_RETURN(HttpResponse response, client.Post(url, bytes, std::move(headers)));
  if (!response.ok()) return HttpError(response, "POST").WithContext("webhook");
  return Status::Ok();
}

}  // namespace sluice
