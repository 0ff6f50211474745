#include "recorded_api.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace sluice::e2e {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string WithBaseUrl(std::string s, const std::string& base_url) {
  for (size_t at; (at = s.find("{{base_url}}")) != std::string::npos;) s.replace(at, 12, base_url);
  return s;
}

std::string Describe(const httplib::Request& req) {
  std::string q;
  for (const auto& [k, v] : req.params) q += (q.empty() ? "?" : "&") + k + "=" + v;
  return req.method + " " + req.path + q;
}

}  // namespace

std::string RecipePath(const std::string& name) {
  return std::string(SLUICE_SOURCE_DIR) + "/examples/collectors/" + name + ".yaml";
}

std::string RecordingPath(const std::string& name) {
  return std::string(SLUICE_SOURCE_DIR) + "/examples/collectors/recordings/" + name + ".json";
}

std::vector<std::string> RecipeNames() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(std::string(SLUICE_SOURCE_DIR) + "/examples/collectors")) {
    if (e.is_regular_file() && e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

RecordedApi::RecordedApi(const std::string& recording) {
  std::ifstream in(recording);
  if (!in) {
    error_ = "no recording at " + recording;
    return;
  }
  recording_ = json::parse(in, nullptr, false);
  if (recording_.is_discarded() || !recording_.contains("responses") || !recording_["responses"].is_array() ||
      recording_["responses"].empty()) {
    error_ = recording + ": not JSON with a non-empty responses array";
    return;
  }
  hits_ = std::make_unique<std::atomic<int>[]>(recording_["responses"].size());
  for (size_t i = 0; i < recording_["responses"].size(); ++i) hits_[i] = 0;
  server_.server().Get(".*", [this](const httplib::Request& req, httplib::Response& res) { Serve(req, res); });
  if (!server_.Start()) error_ = "the recorded API's server did not start";
}

void RecordedApi::Serve(const httplib::Request& req, httplib::Response& res) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (req.has_header("Authorization")) authorizations_.push_back(req.get_header_value("Authorization"));
  }
  std::map<std::string, std::string> query;
  for (const auto& [k, v] : req.params) query[k] = v;
  const json& responses = recording_["responses"];
  for (size_t i = 0; i < responses.size(); ++i) {
    const json& want = responses[i]["request"];
    if (want.value("path", "") != req.path) continue;
    std::map<std::string, std::string> want_query;
    const json recorded_query = want.value("query", json::object());
    for (const auto& [k, v] : recorded_query.items()) want_query[k] = v.get<std::string>();
    if (want_query != query) continue;
    const json recorded_headers = want.value("headers", json::object());
    for (const auto& [name, value] : recorded_headers.items()) {
      if (req.get_header_value(name) != value.get<std::string>()) {
        std::lock_guard<std::mutex> lock(mu_);
        misses_.push_back(Describe(req) + ": header " + name + " is '" + req.get_header_value(name) +
                          "', the recording's request sent '" + value.get<std::string>() + "'");
        res.status = 400;
        res.set_content(misses_.back(), "text/plain");
        return;
      }
    }
    ++hits_[i];
    const json& r = responses[i];
    res.status = r.value("status", 200);
    std::string content_type = "application/json";
    const json headers = r.value("headers", json::object());
    for (const auto& [name, value] : headers.items()) {
      if (name == "Content-Type") {
        content_type = value.get<std::string>();
        continue;
      }
      res.set_header(name, WithBaseUrl(value.get<std::string>(), base_url()));
    }
    const json& body = r["body"];
    res.set_content(WithBaseUrl(body.is_string() ? body.get<std::string>() : body.dump(), base_url()), content_type);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  misses_.push_back(Describe(req) + ": no recorded response");
  res.status = 404;
  res.set_content(misses_.back(), "text/plain");
}

std::vector<int> RecordedApi::Hits() const {
  std::vector<int> out;
  for (size_t i = 0; ok() && i < recording_["responses"].size(); ++i) out.push_back(hits_[i].load());
  return out;
}

std::vector<std::string> RecordedApi::Misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

std::vector<std::string> RecordedApi::Authorizations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return authorizations_;
}

}  // namespace sluice::e2e
