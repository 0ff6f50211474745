#include "core/batch.h"

#include <iterator>

#include "core/time.h"

namespace sluice {

namespace {
const FieldType kJsonType = [] {
  FieldType t;
  t.kind = TypeKind::kJson;
  return t;
}();
}  // namespace

Batch::Batch(const StreamConfig* stream) : extra(&kJsonType), stream_(stream) {
  for (const auto& f : stream->schema.fields) columns.emplace_back(&f.type);
  received_at_us = NowMicros();
}

void Batch::Reset() {
  source.clear();
  ranges.clear();
  for (auto& c : columns) c.Clear();
  extra.Clear();
  row_partition.clear();
  row_offset.clear();
  partition_names.clear();
  dead_letters.clear();
  event_hours.clear();
  late_rows = 0;
  landing_data.clear();
  landed_positions.clear();
  read_records = 0;
  read_bytes = 0;
  received_at_us = NowMicros();
  id.clear();
  epoch = 0;
}

void Batch::Reserve(size_t records, size_t bytes) {
  for (auto& c : columns) c.Reserve(records);
  extra.Reserve(records);
  row_partition.reserve(records);
  row_offset.reserve(records);
  landed_positions.reserve(records);
  landing_data.reserve(bytes);
}

uint32_t Batch::PartitionIndex(const std::string& name) {
  for (size_t i = 0; i < partition_names.size(); ++i)
    if (partition_names[i] == name) return static_cast<uint32_t>(i);
  partition_names.push_back(name);
  return static_cast<uint32_t>(partition_names.size() - 1);
}

void Batch::NoteRead(uint32_t partition, int64_t offset, int64_t next, size_t bytes) {
  PartitionRange& r = ranges[partition_names[partition]];
  if (r.first < 0) r.first = offset;
  if (id.empty()) AssignId(partition_names[partition], offset);
  r.next = next;
  landed_positions.emplace_back(partition, offset);
  ++r.records;
  ++read_records;
  read_bytes += static_cast<int64_t>(bytes);
}

std::vector<uint32_t> Batch::PartitionRanks() const {
  std::vector<uint32_t> ranks(partition_names.size(), static_cast<uint32_t>(ranges.size()));
  for (size_t i = 0; i < partition_names.size(); ++i) {
    auto it = ranges.find(partition_names[i]);
    if (it != ranges.end()) ranks[i] = static_cast<uint32_t>(std::distance(ranges.begin(), it));
  }
  return ranks;
}

uint64_t Batch::BatchKey(std::string_view id) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string SafeName(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out;
}

void Batch::AssignId(const std::string& partition, int64_t first_offset) {
  id = SafeName(source + "-" + partition + "-" + std::to_string(first_offset));
}

}  // namespace sluice
