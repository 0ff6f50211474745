#include <httplib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>

#include "cli/cli.h"

namespace sluice::cli {

size_t TerminalWidth() {
  if (!::isatty(STDOUT_FILENO)) return 0;
  if (const char* columns = std::getenv("COLUMNS"); columns && std::atoi(columns) > 0)
    return static_cast<size_t>(std::atoi(columns));
  struct winsize ws {};
  return ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 0;
}

Args ParseArgs(int argc, char** argv, int first, const std::vector<std::string>& boolean_flags) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.size() > 1 && s[0] == '-' && !(s.size() > 1 && std::isdigit(static_cast<unsigned char>(s[1])))) {
      std::string name = s.substr(s[1] == '-' ? 2 : 1);
      if (name == "c") name = "config";
      if (name == "n") name = "count";
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        a.flags[name.substr(0, eq)] = name.substr(eq + 1);
      } else if (std::find(boolean_flags.begin(), boolean_flags.end(), name) != boolean_flags.end() || i + 1 >= argc) {
        a.flags[name] = "true";
      } else {
        a.flags[name] = argv[++i];
      }
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::optional<Config> LoadConfigFromArgs(const Args& args) {
  std::string path = args.Get("config", "sluice.yaml");
  auto c = LoadConfig(path);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().message().c_str());
    return std::nullopt;
  }
  return std::move(*c);
}

Result<WarehouseAccess> OpenForCommand(const Config& config) {
  WarehouseAccess access;
  auto w = OpenWarehouse(config);
  if (w.ok()) {
    access.local = std::move(*w);
    return access;
  }
  // DuckDB allows one writing process: while `sluice run` holds the file, go through its API.
  if (w.status().message().find("lock") == std::string::npos) return w.status();
  access.remote_url = "http://" + config.listen;
  return access;
}

Result<QueryResult> RunQuery(WarehouseAccess& access, const Config& config, const std::string& sql) {
  const ReadLimits limits{config.query_timeout_us, config.max_rows};
  if (access.local) {
    // The same reader, with the same limits, as the running server would use.
    ASSIGN_OR_RETURN(auto readers, access.local->OpenReaders(1));
    return readers->Query(sql, limits);
  }
  httplib::Client client(access.remote_url);
  client.set_read_timeout(300, 0);
  httplib::Headers headers;
  if (!config.token_env.empty())
    if (const char* t = std::getenv(config.token_env.c_str())) headers.emplace("Authorization", std::string("Bearer ") + t);
  auto res = client.Post("/api/query?format=json", headers, sql, "text/plain");
  if (!res) return Status::Retry("the warehouse is held by a running sluice, and its API at " + access.remote_url +
                                 " does not answer");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(res->body).get(doc)) return Status::Internal("bad answer from " + access.remote_url);
  if (res->status != 200) {
    std::string_view msg;
    if (doc["error"].get(msg)) msg = res->body;
    if (res->status == 504) return Status::TimedOut(std::string(msg));
    if (res->status == 503) return Status::Retry(std::string(msg));
    return Status::Invalid(std::string(msg));
  }
  QueryResult r;
  r.truncated = res->get_header_value("X-Sluice-Truncated") == "true";
  simdjson::dom::array rows;
  if (doc.get(rows)) return Status::Internal("bad answer from " + access.remote_url);
  for (auto row : rows) {
    simdjson::dom::object obj;
    if (row.get(obj)) continue;
    std::vector<std::optional<std::string>> cells;
    bool header = r.columns.empty();
    for (auto field : obj) {
      if (header) {
        r.columns.emplace_back(field.key);
        r.types.push_back(field.value.is_number() ? "DOUBLE" : "VARCHAR");
      }
      if (field.value.is_null()) cells.emplace_back(std::nullopt);
      else if (field.value.is_string()) cells.emplace_back(std::string(field.value.get_string().value()));
      else cells.emplace_back(simdjson::minify(field.value));
    }
    r.rows.push_back(std::move(cells));
  }
  return r;
}

}  // namespace sluice::cli
