// Handing a landed report on: to a shell command, or by POSTing it to a webhook. Either failing fails the
// report's run with the reason (the file stays landed; the retry of the slot lands it again, unchanged when
// the data did not change, and hands it on again).
// Thread-safety: both functions may run on several threads at once.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace sluice {

// What the command and the webhook are told about the file.
struct ReportFile {
  std::string report;   // the report's name
  std::string path;     // a local file holding the report (landing's own file when landing is a folder)
  std::string locator;  // where it is landed: a path, or s3://bucket/key
  std::string file_name;
  std::string content_type;
  std::string slot;  // the slot served, ISO-8601 UTC
};

// Runs `/bin/sh -c COMMAND sluice-report PATH`, so the command sees the file as "$1", with SLUICE_REPORT,
// SLUICE_REPORT_FILE, SLUICE_REPORT_LOCATOR and SLUICE_REPORT_SLOT in its environment, in a process group of
// its own. Ok on exit status 0; Invalid naming the exit status (or signal) and the end of its output
// otherwise; TimedOut past `timeout` and Cancelled on `stop`, after killing its process group.
Status RunReportCommand(const std::string& command, const ReportFile& file, std::chrono::milliseconds timeout,
                        std::stop_token stop);

// POSTs the file's bytes to `url` (Content-Type of the format, Content-Disposition with the file name,
// X-Sluice-Report and X-Sluice-Report-Slot headers), retrying connection errors and 5xx a few times. Ok on a
// 2xx answer; the status HttpError gives otherwise.
Status PostReportWebhook(const std::string& url, const ReportFile& file, const std::string& bytes,
                         std::chrono::milliseconds timeout, std::stop_token stop, Clock* clock);

}  // namespace sluice
