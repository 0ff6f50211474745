// Batch: the records one source read between two cuts, parsed into columns, plus everything the warehouse
// transaction needs to make loading exactly-once: per-partition offset ranges (the next checkpoints), the
// dead letters, the event hours touched, and the raw bytes to land.
// Not thread-safe: built by one source thread, then handed over whole to the loader.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/column_builder.h"
#include "core/config.h"

namespace sluice {

// A record that could not be loaded, kept with its reason and position (DESIGN.md semantics 2).
struct DeadLetter {
  std::string partition;
  int64_t offset = 0;
  std::string error;
  std::string raw;         // truncated to kDeadLetterRawLimit
  int64_t raw_length = 0;  // the record's full length
};
constexpr size_t kDeadLetterRawLimit = 64 * 1024;

// The offsets a batch covers in one partition: [first, next). `next` becomes the checkpoint.
struct PartitionRange {
  int64_t first = -1;
  int64_t next = -1;
  int64_t records = 0;
};

class Batch {
 public:
  explicit Batch(const StreamConfig* stream);

  const StreamConfig& stream() const { return *stream_; }
  std::string source;                            // source name
  std::map<std::string, PartitionRange> ranges;  // partition -> offsets covered
  std::vector<ColumnBuilder> columns;            // one per schema field
  ColumnBuilder extra;                           // _extra JSON, null when nothing undeclared
  std::vector<uint32_t> row_partition;           // per good row: index into partition_names
  std::vector<int64_t> row_offset;               // per good row: its offset in that partition
  std::vector<std::string> partition_names;
  std::vector<DeadLetter> dead_letters;
  std::set<int64_t> event_hours;                               // hour starts (micros) of the good rows
  int64_t late_rows = 0;                                       // rows behind the watermark when read
  std::string landing_data;                                    // raw records, one per line, as read
  std::vector<std::pair<uint32_t, int64_t>> landed_positions;  // per landed line: partition index, offset
  int64_t read_records = 0;                                    // good + dead
  int64_t read_bytes = 0;
  int64_t received_at_us = 0;  // when the batch was opened
  std::string id;              // deterministic: source, partition, first offset
  int64_t epoch = 0;           // the source's position epoch; bumped when a stale batch made it re-read checkpoints

  // Empties the batch for reuse by the same source, keeping its buffers' capacity: a source that reuses
  // its batches stops paying page faults and regrowth copies for every cut.
  void Reset();
  // Makes room for `records` records and `bytes` of raw input up front, so a fresh batch fills without
  // regrowth copies (capacity is virtual until touched).
  void Reserve(size_t records, size_t bytes);

  size_t rows() const { return row_offset.size(); }
  bool empty() const { return read_records == 0; }
  // Index of a partition name, adding it when new.
  uint32_t PartitionIndex(const std::string& name);
  // Notes that a record at (partition, offset) of `bytes` bytes, ending at `next`, was read.
  void NoteRead(uint32_t partition, int64_t offset, int64_t next, size_t bytes);
  // Sets `id` from the first record read: "<source>-<partition>-<offset>", made safe for file names.
  void AssignId(const std::string& partition, int64_t first_offset);
  // Event time of good row i, micros.
  int64_t event_time(size_t i) const { return columns[stream_->schema.event_time].int_at(i); }
  // The batch's key in raw (`_batch`): a 64-bit hash of `id`, so the same batch gets the same key on every
  // retry, replay and worker without asking anyone (ClickHouse's retries must be byte-identical). The ledger
  // row of the batch carries it too, which is how a raw row finds its source, partitions and landed file.
  uint64_t key() const { return BatchKey(id); }
  // Per entry of partition_names: its position among the batch's partitions in name order (the order of
  // `ranges`, which the ledger records). Raw stores that position per row (`_partition_index`) instead of the name.
  std::vector<uint32_t> PartitionRanks() const;

  // FNV-1a, 64 bits, of a batch id: stable across builds and machines (std::hash is neither).
  static uint64_t BatchKey(std::string_view id);

 private:
  const StreamConfig* stream_;
};

// Makes `s` safe as a file name and SQL-friendly id: keeps [A-Za-z0-9._-], maps the rest to '_'.
std::string SafeName(std::string_view s);

}  // namespace sluice
