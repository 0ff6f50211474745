// RecordParser: turns one JSON record into a row of a Batch, checked against the stream's schema, or into a
// dead letter with its reason (invalid JSON or UTF-8, not an object, missing or unparsable event time, a
// field of the wrong type, over-long). Undeclared fields, top-level or nested, go to `_extra` under their
// dotted path, so nothing is dropped.
// Not thread-safe: one per source thread (it owns a simdjson parser and scratch buffers).
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>
#include <unordered_map>

#include "core/batch.h"

namespace sluice {

class RecordParser {
 public:
  explicit RecordParser(const StreamConfig* stream);

  // Parses `record` read at (partition, offset) and appends a row or a dead letter to `batch`. `next` is
  // the offset after the record. When `padded` is true the caller guarantees SIMDJSON_PADDING readable
  // bytes after the record, which saves a copy. Returns true when the record became a row.
  bool Parse(std::string_view record, uint32_t partition, int64_t offset, int64_t next, Batch& batch,
             bool padded = false);

  // Appends `record` to batch.landing_data as one line, then parses it as Parse does, reading the landed
  // copy in place: one copy of the bytes instead of two. For sources whose records are not already in a
  // padded buffer of their own (Kafka messages, HTTP body lines).
  bool LandAndParse(std::string_view record, uint32_t partition, int64_t offset, int64_t next, Batch& batch);

 private:
  // Returns an error message, or empty on success. `path` is the dotted field path for messages.
  std::string ParseValue(simdjson::ondemand::value value, ColumnBuilder& col, const std::string& path);
  std::string ParseStruct(simdjson::ondemand::object obj, ColumnBuilder& col, const std::string& path);
  std::string ParseTopLevel(simdjson::ondemand::object obj, Batch& batch);
  void AddExtra(std::string_view key_path, simdjson::ondemand::value value);
  void DeadLetter(Batch& batch, uint32_t partition, int64_t offset, std::string_view record, std::string error);

  const StreamConfig* stream_;
  simdjson::ondemand::parser parser_;
  std::string padded_;
  std::string extra_;  // the _extra object being built for the current record
  std::unordered_map<std::string_view, int> top_index_;
  std::vector<uint8_t> seen_;
  std::vector<bool> plain_name_;  // per field: no quote or backslash, so raw key bytes can be compared
  int64_t last_hour_ = 0;  // the hour of the last good row, to skip repeated event_hours inserts
};

// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace sluice
