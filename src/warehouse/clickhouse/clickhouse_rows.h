// Byte-stable RowBinary blocks of a batch, the unit of ClickHouse's insert deduplication.
//
// Exactly-once on ClickHouse rests on a retried block being the same block: same rows, same bytes, same
// boundaries. So the blocks are a pure function of the batch (which LandingReader::Rebuild reproduces from
// the landed file): rows ordered by (event time, partition, offset), which is unique within a batch; cut
// at every change of event_date (one insert, one partition, one part, one dedup hash) and every
// kMaxBlockRows rows; encoded column by column as the raw table declares them. Nothing time-dependent
// (load time, host) goes into raw rows.
//
// RowBinary, not JSONEachRow or TSV: sluice has already parsed and validated every record, and RowBinary
// is what ClickHouse parses cheapest (lengths and little-endian values, no escaping, no number parsing).
// Thread-safety: functions of their arguments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch.h"
#include "core/status.h"
#include "warehouse/clickhouse/clickhouse_schema.h"

namespace sluice {

// Rows per insert at most; sent as max_insert_block_size too, so the server never splits an insert.
constexpr size_t kMaxBlockRows = 1'000'000;

struct RowBlock {
  int32_t event_date = 0;  // days since 1970-01-01
  size_t rows = 0;
  std::string data;  // RowBinary
};

// The batch's rows as RowBinary blocks for `columns` (the raw table's, in the order they are listed in the
// INSERT). `max_rows` is kMaxBlockRows but for tests.
Result<std::vector<RowBlock>> EncodeRawBlocks(const Batch& batch, const std::vector<RawColumn>& columns,
                                              size_t max_rows = kMaxBlockRows);

// "INSERT INTO `db`.`t` (`a`, `b`) FORMAT RowBinary"
std::string InsertSql(const std::string& qualified_table, const std::vector<RawColumn>& columns);

// Appends RowBinary values: little-endian fixed-size numbers, LEB128-prefixed strings.
class RowBinaryWriter {
 public:
  explicit RowBinaryWriter(std::string& out) : out_(out) {}
  void VarUInt(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>(v | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
  }
  void String(std::string_view s) {
    VarUInt(s.size());
    out_.append(s);
  }
  template <typename T>
  void Fixed(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);  // x86-64 and arm64 are little-endian
  }
  void Null(bool is_null) { out_ += static_cast<char>(is_null ? 1 : 0); }

 private:
  std::string& out_;
};

// Writes the default value of a ClickHouse type (NULL, 0, '', empty array, tuple of defaults), for a
// column whose field left the config. Invalid for a type it does not know.
Status WriteDefault(RowBinaryWriter& w, std::string_view type);

}  // namespace sluice
