#include "core/config.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config_reader.h"

namespace sluice {
namespace {

bool IsTypeSpecMap(const YAML::Node& n) {
  if (!n.IsDefined() || !n.IsMap() || !n["type"].IsDefined()) return false;
  for (const auto& kv : n) {
    std::string k = kv.first.Scalar();
    if (k != "type" && k != "of" && k != "fields" && k != "epoch") return false;
  }
  return true;
}

bool ReadStructFields(ConfigReader& r, const YAML::Node& n, const std::string& path, std::vector<Field>& out) {
  if (!n.IsDefined() || !n.IsMap() || n.size() == 0) {
    r.Error(n, path, "expected a map of field names to types");
    return false;
  }
  bool ok = true;
  for (const auto& kv : n) {
    Field f;
    f.name = kv.first.Scalar();
    ok &= ReadFieldType(r, kv.second, JoinPath(path, f.name), f.type);
    out.push_back(std::move(f));
  }
  return ok;
}

void ReadSource(ConfigReader& r, const YAML::Node& n, const std::string& path, const std::string& stream,
                SourceConfig& s) {
  r.CheckKeys(n, path, {"kind", "name", "path", "follow", "worker", "brokers", "topic", "group", "options",
                           "max_body"});
  s.kind = r.String(n, "kind", path, true).value_or("");
  if (!s.kind.empty() && s.kind != "file" && s.kind != "kafka" && s.kind != "http")
    r.Error(n["kind"], JoinPath(path, "kind"), "unknown source kind '" + s.kind + "' (expected file, kafka or http)");
  s.name = r.String(n, "name", path).value_or(stream + "." + s.kind);
  if (s.kind == "file") {
    s.path = r.String(n, "path", path, true).value_or("");
    s.follow = r.Bool(n, "follow", path).value_or(false);
    s.worker = r.String(n, "worker", path).value_or("");
  } else if (s.kind == "kafka") {
    s.brokers = r.String(n, "brokers", path, true).value_or("");
    s.topic = r.String(n, "topic", path, true).value_or("");
    s.group = r.String(n, "group", path).value_or("sluice");
    if (n["options"].IsDefined() && n["options"].IsMap())
      for (const auto& kv : n["options"]) s.kafka_options[kv.first.Scalar()] = kv.second.Scalar();
  } else if (s.kind == "http") {
    s.max_body_bytes = r.Size(n, "max_body", path).value_or(s.max_body_bytes);
  }
  if (s.kind != "file" && n["worker"].IsDefined())
    r.Error(n["worker"], JoinPath(path, "worker"),
            "only file sources belong to one worker (Kafka partitions and HTTP bodies go to every worker)");
}

void ReadStream(ConfigReader& r, const std::string& name, const YAML::Node& n, StreamConfig& s) {
  std::string path = "streams." + name;
  s.name = name;
  if (!n.IsMap()) {
    r.Error(n, path, "expected a map with event_time, schema and sources");
    return;
  }
  r.CheckKeys(n, path, {"event_time", "schema", "sources", "batch", "allowed_lateness", "idle_timeout",
                        "retention", "max_record"});
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      r.Error(n, path, "stream names may hold only letters, digits and '_' (they name tables)");
  YAML::Node schema = n["schema"];
  if (!schema.IsDefined()) r.Error(n, JoinPath(path, "schema"), "required field is missing");
  else ReadStructFields(r, schema, JoinPath(path, "schema"), s.schema.fields);
  // Raw's own columns, and the names its origin view adds (the last three were raw's columns before issue 13).
  std::set<std::string> reserved = {"event_date", "_extra",  "_batch",     "_partition_index", "_offset",
                                    "_batch_id",  "_source", "_partition", "_landed_file"};
  for (const auto& f : s.schema.fields)
    if (reserved.count(f.name))
      r.Error(schema[f.name], JoinPath(path, "schema." + f.name), "name is reserved for sluice's own column");
  auto et = r.String(n, "event_time", path, true);
  if (et) {
    s.schema.event_time = s.schema.IndexOf(*et);
    if (s.schema.event_time < 0)
      r.Error(n["event_time"], JoinPath(path, "event_time"), "'" + *et + "' is not a field of the schema");
    else if (s.schema.fields[s.schema.event_time].type.kind != TypeKind::kTimestamp)
      r.Error(n["event_time"], JoinPath(path, "event_time"), "'" + *et + "' must be declared as a timestamp");
  }
  s.allowed_lateness_us = r.Duration(n, "allowed_lateness", path).value_or(s.allowed_lateness_us);
  s.idle_timeout_us = r.Duration(n, "idle_timeout", path).value_or(s.idle_timeout_us);
  s.retention_us = r.Duration(n, "retention", path).value_or(0);
  s.max_record_bytes = r.Size(n, "max_record", path).value_or(s.max_record_bytes);
  YAML::Node b = n["batch"];
  if (b.IsDefined()) {
    std::string bp = JoinPath(path, "batch");
    r.CheckKeys(b, bp, {"max_records", "max_bytes", "max_wait"});
    s.batch.max_records = r.Int(b, "max_records", bp).value_or(s.batch.max_records);
    s.batch.max_bytes = r.Size(b, "max_bytes", bp).value_or(s.batch.max_bytes);
    s.batch.max_wait_us = r.Duration(b, "max_wait", bp).value_or(s.batch.max_wait_us);
    if (s.batch.max_records <= 0) r.Error(b["max_records"], JoinPath(bp, "max_records"), "must be positive");
  }
  YAML::Node srcs = n["sources"];
  if (!srcs.IsDefined() || !srcs.IsSequence() || srcs.size() == 0) {
    r.Error(srcs.IsDefined() ? srcs : n, JoinPath(path, "sources"), "expected a non-empty list of sources");
    return;
  }
  for (size_t i = 0; i < srcs.size(); ++i) {
    SourceConfig sc;
    ReadSource(r, srcs[i], JoinPath(path, "sources[" + std::to_string(i) + "]"), name, sc);
    s.sources.push_back(std::move(sc));
  }
}

}  // namespace

bool ReadFieldType(ConfigReader& r, const YAML::Node& n, const std::string& path, FieldType& out) {
  out = FieldType{};
  if (n.IsScalar()) {
    std::string t = n.Scalar();
    if (t.rfind("list<", 0) == 0 && t.back() == '>') {
      out.kind = TypeKind::kList;
      out.element = std::make_shared<FieldType>();
      YAML::Node inner(t.substr(5, t.size() - 6));
      if (!ParseScalarType(inner.Scalar(), *out.element)) {
        r.Error(n, path, "unknown element type in '" + t + "'");
        return false;
      }
      return true;
    }
    if (!ParseScalarType(t, out)) {
      r.Error(n, path,
              "unknown type '" + t + "' (expected string, int64, float64, bool, timestamp, timestamp_ms, "
              "timestamp_us, date, json, list<T>, or a map of fields for a struct)");
      return false;
    }
    return true;
  }
  if (n.IsSequence()) {
    if (n.size() != 1) {
      r.Error(n, path, "a list type is written [element_type]");
      return false;
    }
    out.kind = TypeKind::kList;
    out.element = std::make_shared<FieldType>();
    return ReadFieldType(r, n[0], path + "[]", *out.element);
  }
  if (IsTypeSpecMap(n)) {
    std::string t = n["type"].Scalar();
    if (t == "struct") {
      out.kind = TypeKind::kStruct;
      return ReadStructFields(r, n["fields"], JoinPath(path, "fields"), out.fields);
    }
    if (t == "list") {
      out.kind = TypeKind::kList;
      out.element = std::make_shared<FieldType>();
      if (!n["of"].IsDefined()) {
        r.Error(n, JoinPath(path, "of"), "a list needs its element type in 'of'");
        return false;
      }
      return ReadFieldType(r, n["of"], path + "[]", *out.element);
    }
    if (!ParseScalarType(t, out)) {
      r.Error(n["type"], JoinPath(path, "type"), "unknown type '" + t + "'");
      return false;
    }
    if (n["epoch"].IsDefined()) {
      std::string e = n["epoch"].Scalar();
      if (out.kind != TypeKind::kTimestamp) r.Error(n["epoch"], JoinPath(path, "epoch"), "only timestamps have an epoch unit");
      else if (e == "s") out.epoch = EpochUnit::kSeconds;
      else if (e == "ms") out.epoch = EpochUnit::kMillis;
      else if (e == "us") out.epoch = EpochUnit::kMicros;
      else r.Error(n["epoch"], JoinPath(path, "epoch"), "expected s, ms or us");
    }
    return true;
  }
  if (n.IsMap()) {
    out.kind = TypeKind::kStruct;
    return ReadStructFields(r, n, path, out.fields);
  }
  r.Error(n, path, "expected a type");
  return false;
}

const StreamConfig* Config::FindStream(std::string_view name) const {
  for (const auto& s : streams)
    if (s.name == name) return &s;
  return nullptr;
}

std::string Config::Resolve(const std::string& path) const {
  if (path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

namespace {

// warehouse: { kind: clickhouse, url: http://host:8123, database: sluice, cluster: NAME, user_env: VAR,
// password_env: VAR, reader_user_env: VAR, reader_password_env: VAR }. Names end up in SQL unquoted (ON
// CLUSTER, Distributed()), so they must be identifiers.
void ReadClickHouseWarehouse(ConfigReader& r, const YAML::Node& w, Config& c) {
  r.CheckKeys(w, "warehouse",
              {"kind", "url", "database", "cluster", "user_env", "password_env", "reader_user_env",
               "reader_password_env"});
  c.warehouse_url = r.String(w, "url", "warehouse", /*required=*/true).value_or("");
  if (!c.warehouse_url.empty() && c.warehouse_url.rfind("http://", 0) != 0 &&
      c.warehouse_url.rfind("https://", 0) != 0)
    r.Error(w["url"], "warehouse.url", "expected an http:// or https:// URL of ClickHouse's HTTP interface");
  auto identifier = [&](std::string_view key, std::string& out) {
    std::optional<std::string> v = r.String(w, key, "warehouse");
    if (!v) return;
    bool ok = !v->empty() && !std::isdigit(static_cast<unsigned char>((*v)[0]));
    for (char ch : *v) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_');
    if (!ok)
      r.Error(w[std::string(key)], JoinPath("warehouse", key), "expected a name of letters, digits and '_'");
    else
      out = *v;
  };
  identifier("database", c.warehouse_database);
  identifier("cluster", c.warehouse_cluster);
  c.warehouse_user_env = r.String(w, "user_env", "warehouse").value_or("");
  c.warehouse_password_env = r.String(w, "password_env", "warehouse").value_or("");
  c.warehouse_reader_user_env = r.String(w, "reader_user_env", "warehouse").value_or("");
  c.warehouse_reader_password_env = r.String(w, "reader_password_env", "warehouse").value_or("");
}

void ReadLanding(ConfigReader& r, const YAML::Node& l, Config& c) {
  c.landing_kind = l.IsDefined() ? r.String(l, "kind", "landing").value_or("local") : "local";
  if (c.landing_kind == "s3") {
    r.CheckKeys(l, "landing", {"kind", "endpoint", "bucket", "prefix", "region", "access_key_env", "secret_key_env"});
    c.landing_endpoint = r.String(l, "endpoint", "landing").value_or("");
    c.landing_bucket = r.String(l, "bucket", "landing").value_or("");
    c.landing_prefix = r.String(l, "prefix", "landing").value_or("");
    c.landing_region = r.String(l, "region", "landing").value_or(c.landing_region);
    c.landing_access_key_env = r.String(l, "access_key_env", "landing").value_or("");
    c.landing_secret_key_env = r.String(l, "secret_key_env", "landing").value_or("");
    if (c.landing_endpoint.empty()) r.Error(l, "landing.endpoint", "an s3 landing needs endpoint (http(s)://host[:port])");
    else if (c.landing_endpoint.rfind("http://", 0) != 0 && c.landing_endpoint.rfind("https://", 0) != 0)
      r.Error(l["endpoint"], "landing.endpoint", "expected an http:// or https:// URL");
    if (c.landing_bucket.empty()) r.Error(l, "landing.bucket", "an s3 landing needs bucket");
    if (c.landing_access_key_env.empty()) r.Error(l, "landing.access_key_env", "name the environment variable holding the access key");
    if (c.landing_secret_key_env.empty()) r.Error(l, "landing.secret_key_env", "name the environment variable holding the secret key");
    // Local files (DuckDB file, collectors' cache) still need a folder; landing.path is not used for s3.
    c.landing_path = c.Resolve("data/landing");
    return;
  }
  r.CheckKeys(l, "landing", {"kind", "path"});
  if (c.landing_kind != "local") r.Error(l["kind"], "landing.kind", "expected local or s3");
  c.landing_path = c.Resolve(l.IsDefined() ? r.String(l, "path", "landing").value_or("data/landing") : "data/landing");
}

void ReadCoordination(ConfigReader& r, const YAML::Node& n, Config& c) {
  if (!n.IsDefined()) return;
  r.CheckKeys(n, "coordination", {"zookeeper", "root", "lease_timeout"});
  c.zookeeper = r.String(n, "zookeeper", "coordination").value_or("");
  if (c.zookeeper.empty()) r.Error(n, "coordination.zookeeper", "name the ZooKeeper ensemble (host:port[,host:port])");
  c.coordination_root = r.String(n, "root", "coordination").value_or(c.coordination_root);
  if (c.coordination_root.empty() || c.coordination_root[0] != '/' ||
      (c.coordination_root.size() > 1 && c.coordination_root.back() == '/'))
    r.Error(n["root"], "coordination.root", "expected an absolute ZooKeeper path without a trailing '/'");
  c.lease_timeout_us = r.Duration(n, "lease_timeout", "coordination").value_or(c.lease_timeout_us);
  if (c.lease_timeout_us < 2'000'000 || c.lease_timeout_us > 600'000'000)
    r.Error(n["lease_timeout"], "coordination.lease_timeout", "must be between 2s and 10m");
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& file, const std::string& base_dir) {
  ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(text, file));
  ConfigReader r(file);
  Config c;
  c.file = file;
  c.base_dir = base_dir;
  if (!root.IsMap()) {
    r.Error(root, "(top)", "expected a map with warehouse, landing and streams");
    return r.ToStatus();
  }
  r.CheckKeys(root, "", {"warehouse", "landing", "server", "streams", "rollups", "collectors", "models",
                         "dashboards", "coordination", "marts", "reports"});
  YAML::Node w = root["warehouse"];
  if (w.IsDefined()) {
    c.warehouse_kind = r.String(w, "kind", "warehouse").value_or("duckdb");
    if (c.warehouse_kind == "clickhouse") {
      ReadClickHouseWarehouse(r, w, c);
    } else {
      r.CheckKeys(w, "warehouse", {"kind", "path", "memory_limit"});
      if (c.warehouse_kind != "duckdb") r.Error(w["kind"], "warehouse.kind", "expected duckdb or clickhouse");
      c.warehouse_memory_limit = r.Size(w, "memory_limit", "warehouse").value_or(c.warehouse_memory_limit);
      if (c.warehouse_memory_limit < (int64_t{64} << 20))
        r.Error(w["memory_limit"], "warehouse.memory_limit", "at least 64MiB: DuckDB needs room for a batch's row groups");
    }
    c.warehouse_path = r.String(w, "path", "warehouse").value_or("data/warehouse.duckdb");
  } else {
    c.warehouse_path = "data/warehouse.duckdb";
  }
  c.warehouse_path = c.Resolve(c.warehouse_path);
  ReadLanding(r, root["landing"], c);
  ReadCoordination(r, root["coordination"], c);
  YAML::Node s = root["server"];
  if (s.IsDefined()) {
    r.CheckKeys(s, "server", {"listen", "token_env", "query_timeout", "max_rows"});
    c.listen = r.String(s, "listen", "server").value_or(c.listen);
    c.token_env = r.String(s, "token_env", "server").value_or("");
    c.query_timeout_us = r.Duration(s, "query_timeout", "server").value_or(c.query_timeout_us);
    if (c.query_timeout_us <= 0) r.Error(s["query_timeout"], "server.query_timeout", "must be positive");
    c.max_rows = r.Int(s, "max_rows", "server").value_or(c.max_rows);
    if (c.max_rows <= 0) r.Error(s["max_rows"], "server.max_rows", "must be positive");
  }
  YAML::Node streams = root["streams"];
  if (streams.IsDefined() && !streams.IsMap()) r.Error(streams, "streams", "expected a map of stream names");
  std::set<std::string> source_names;
  if (streams.IsDefined() && streams.IsMap()) {
    for (const auto& kv : streams) {
      StreamConfig sc;
      ReadStream(r, kv.first.Scalar(), kv.second, sc);
      for (size_t i = 0; i < sc.sources.size(); ++i) {
        auto& src = sc.sources[i];
        if (source_names.count(src.name)) {
          if (kv.second["sources"][i]["name"].IsDefined())
            r.Error(kv.second["sources"][i], "streams." + sc.name + ".sources[" + std::to_string(i) + "].name",
                    "source name '" + src.name + "' is used twice");
          else
            src.name += std::to_string(i);
        }
        source_names.insert(src.name);
        if (src.kind == "file") src.path = c.Resolve(src.path);
      }
      c.streams.push_back(std::move(sc));
    }
    for (const auto& a : c.streams)
      for (const auto& b : c.streams)
        if (b.raw_table() == a.origin_view())
          r.Error(streams[b.name], "streams." + b.name,
                  "its table " + b.raw_table() + " is the name of the origin view of stream '" + a.name + "'");
  }
  c.rollups = root["rollups"];
  c.collectors = root["collectors"];
  c.reports = root["reports"];
  c.marts = root["marts"];
  if (root["models"].IsDefined()) c.models_dir = c.Resolve(r.String(root, "models", "").value_or(""));
  if (root["dashboards"].IsDefined()) c.dashboards_dir = c.Resolve(r.String(root, "dashboards", "").value_or(""));
  RETURN_IF_ERROR(r.ToStatus());
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string base = std::filesystem::path(path).parent_path().string();
  return ParseConfig(ss.str(), path, base.empty() ? "." : base);
}

}  // namespace sluice
