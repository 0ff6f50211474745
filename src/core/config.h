// The pipeline config: one YAML file declaring the warehouse, landing, server, streams with their schemas,
// sources and batch limits. Sections owned by later stages (rollups, collectors, models, dashboards) are kept
// as YAML nodes and read by those stages through a ConfigReader, so every error names file, line and field.
// Immutable after load; thread-safe to share.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/schema.h"
#include "core/status.h"

namespace sluice {

struct SourceConfig {
  std::string kind;  // file | kafka | http
  std::string name;  // unique across the config; default "<stream>.<kind>" (+ index when repeated)
  // file
  std::string path;     // a file, a directory or a glob
  bool follow = false;  // keep reading files as they grow
  std::string worker;   // several workers: the one that reads it (empty: whoever holds its lease)
  // kafka
  std::string brokers, topic, group;
  std::map<std::string, std::string> kafka_options;  // passed through to librdkafka
  // http
  int64_t max_body_bytes = 64LL << 20;
};

struct BatchConfig {
  int64_t max_records = 100000;
  int64_t max_bytes = 64LL << 20;
  int64_t max_wait_us = 1'000'000;
};

struct StreamConfig {
  std::string name;
  Schema schema;
  int64_t allowed_lateness_us = 6 * 3600LL * 1'000'000;
  int64_t idle_timeout_us = 5 * 60LL * 1'000'000;
  int64_t retention_us = 0;            // 0 keeps raw forever
  int64_t max_record_bytes = 1 << 20;  // longer records are dead-lettered
  std::vector<SourceConfig> sources;
  BatchConfig batch;

  const Field& event_time_field() const { return schema.fields[schema.event_time]; }
  std::string raw_table() const { return "raw_" + name; }
  // The view over raw that answers where each row came from: raw's columns, then _batch_id, _source,
  // _partition and _landed_file from the batch ledger (raw itself keeps only _batch, _partition_index and _offset).
  std::string origin_view() const { return raw_table() + "_origin"; }
};

struct Config {
  std::string file;      // the config file, as given
  std::string base_dir;  // relative paths in the config are relative to the file's folder
  std::string warehouse_kind = "duckdb";
  std::string warehouse_path;  // duckdb file
  // duckdb: the most memory DuckDB keeps (its buffer pool of table blocks and queries' working memory, spilled
  // to <path>.tmp beyond). DuckDB's own default, 80% of RAM, lets a long-running ingest's cache grow for hours.
  int64_t warehouse_memory_limit = int64_t{1} << 30;
  // clickhouse: the HTTP interface, the database sluice owns, the cluster for ON CLUSTER DDL and Distributed
  // raw tables (empty: one server), and the names of the environment variables holding the credentials (the
  // values are read when the warehouse opens, never stored in the config nor logged).
  std::string warehouse_url;
  std::string warehouse_database = "sluice";
  std::string warehouse_cluster;
  std::string warehouse_user_env, warehouse_password_env;
  // The user people's queries run as: its users.xml profile must set readonly = 1 (its limits too).
  std::string warehouse_reader_user_env, warehouse_reader_password_env;
  std::string landing_path;  // local landing (the default): a folder
  // landing.kind: s3 — an S3-compatible object store (AWS S3, GCS's XML API with HMAC keys, s3rver, MinIO)
  // instead of the folder. Credentials are named by environment variables, read when the store opens.
  std::string landing_kind = "local";  // local | s3
  std::string landing_endpoint;        // s3: "https://s3.eu-west-1.amazonaws.com", "http://127.0.0.1:4569"
  std::string landing_bucket, landing_prefix;
  std::string landing_region = "us-east-1";
  std::string landing_access_key_env, landing_secret_key_env;
  // coordination: several `sluice run --worker NAME` processes share one pipeline. Empty zookeeper: one
  // process, nothing to coordinate. Leases (transforms, collector slots, file sources) live under `root`.
  std::string zookeeper;                      // "host:port[,host:port...]"
  std::string coordination_root = "/sluice";  // a ZooKeeper path
  int64_t lease_timeout_us = 30'000'000;      // a dead worker's leases pass on within this
  std::string listen = "127.0.0.1:8080";
  std::string token_env;                  // name of the env var holding the API token (never the token itself)
  int64_t query_timeout_us = 30'000'000;  // a reader query running longer is interrupted
  int64_t max_rows = 100'000;             // a reader answer stops here and says it was truncated
  std::vector<StreamConfig> streams;
  std::string models_dir, dashboards_dir;
  YAML::Node rollups, collectors;  // read by src/transform and src/collect
  YAML::Node reports;              // read by src/reports
  YAML::Node marts;                // read by src/marts

  const StreamConfig* FindStream(std::string_view name) const;
  // Resolves `path` against base_dir unless absolute.
  std::string Resolve(const std::string& path) const;
};

// Loads and validates a config file. On error returns Invalid listing every problem, one per line, each
// with file:line:column and the field path.
Result<Config> LoadConfig(const std::string& path);
// Same, from text (tests); `file` names it in messages.
Result<Config> ParseConfig(const std::string& text, const std::string& file, const std::string& base_dir = ".");

// Reads a field type spec: a scalar name ("int64"), "list<T>", a one-element sequence ([T]) for a list, a
// map {type: ..., of: ..., fields: ..., epoch: s|ms|us}, or a plain map of fields for a struct.
bool ReadFieldType(class ConfigReader& r, const YAML::Node& node, const std::string& path, FieldType& out);

}  // namespace sluice
