// Byte-stable blocks of a batch's raw rows, the unit of ClickHouse's insert deduplication.
//
// Exactly-once on ClickHouse rests on a retried block being the same block: same rows, same bytes, same
// boundaries. So the blocks are a pure function of the batch (which LandingReader::Rebuild reproduces from
// the landed file): rows ordered by the raw table's sorting key (event time in whole seconds as DateTime
// holds it, partition, offset), which is unique within a batch; cut at every change of event_date (one
// insert, one partition, one part, one dedup hash) and every kMaxBlockRows rows; encoded as the raw table
// declares its columns. Nothing time-dependent (load time, host) goes into raw rows. Rows arrive in the
// table's own order, so the server finds the block already sorted and skips its sort.
//
// Native, not JSONEachRow or RowBinary: sluice has already parsed and validated every record, and Native is
// what ClickHouse reads cheapest (column by column, fixed-width values as arrays). It is also what sluice
// writes cheapest: each column is one gather over the batch's columnar values. RowBinary remains for a
// table holding a column whose type the Native encoder does not know (one added by hand): row by row,
// lengths and little-endian values. The dedup hash is the part's, computed after the server sorted it, so
// the same rows in either format are the same block.
// Thread-safety: functions of their arguments; EncodeBlock may run on several threads for distinct buffers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/batch.h"
#include "core/status.h"
#include "warehouse/clickhouse/clickhouse_schema.h"

namespace sluice {

// Rows per insert at most; sent as max_insert_block_size too, so the server never splits an insert.
constexpr size_t kMaxBlockRows = 1'000'000;

enum class BlockFormat { kNative, kRowBinary };

// The order of a batch's rows and where its blocks are cut: rows [begin, end) of `order` form block i.
struct BlockPlan {
  struct Block {
    int32_t event_date = 0;  // days since 1970-01-01
    size_t begin = 0, end = 0;
    size_t rows() const { return end - begin; }
  };
  std::vector<uint32_t> order;  // row indexes of the batch, in the raw table's sorting-key order
  std::vector<Block> blocks;
  std::vector<uint32_t> partition_index;  // per entry of the batch's partition_names: its _partition_index
};
// `max_rows` is kMaxBlockRows but for tests.
BlockPlan PlanRawBlocks(const Batch& batch, size_t max_rows = kMaxBlockRows);

// Native when it can encode every column of `columns` (all that sluice creates), else RowBinary.
BlockFormat FormatFor(const std::vector<RawColumn>& columns);

// A growable byte buffer filled through raw pointers, without zero-filling: its owner keeps it across
// loads so its pages stay mapped (a fresh 60 MB block otherwise costs ~15k page faults to fill).
class ByteBuffer {
 public:
  // Room for exactly `n` more bytes at the end, which the caller must fill.
  char* Extend(size_t n);
  // Makes room for `capacity` bytes in all, so that filling them moves nothing.
  void Reserve(size_t capacity);
  void Clear() { size_ = 0; }
  std::string_view view() const { return {data_.data, size_}; }
  size_t size() const { return size_; }

 private:
  struct Mapping {  // an anonymous mmap, unmapped at destruction
    char* data = nullptr;
    size_t bytes = 0;
    Mapping() = default;
    Mapping(char* d, size_t b) : data(d), bytes(b) {}
    Mapping(Mapping&& o) noexcept : data(std::exchange(o.data, nullptr)), bytes(o.bytes) {}
    Mapping& operator=(Mapping&& o) noexcept {
      std::swap(data, o.data);
      std::swap(bytes, o.bytes);
      return *this;
    }
    ~Mapping();
  };
  Mapping data_;
  size_t size_ = 0, capacity_ = 0;
};

// Appends block `block` of `plan` for `columns` (the raw table's, in the order the INSERT lists them) to
// `out`, in `format`. Invalid when a column's type has no encoding (RowBinary: see WriteDefault).
Status EncodeBlock(const Batch& batch, const std::vector<RawColumn>& columns, const BlockPlan& plan, size_t block,
                   BlockFormat format, ByteBuffer& out);

// About the bytes of a Native block of `rows` of the batch's rows, for ByteBuffer::Reserve.
size_t EstimateBlockBytes(const Batch& batch, const std::vector<RawColumn>& columns, size_t rows);

// The batch's blocks, encoded: for tests and measurements (the loader encodes one block at a time).
struct RowBlock {
  int32_t event_date = 0;  // days since 1970-01-01
  size_t rows = 0;
  std::string data;
};
Result<std::vector<RowBlock>> EncodeRawBlocks(const Batch& batch, const std::vector<RawColumn>& columns,
                                              size_t max_rows = kMaxBlockRows,
                                              BlockFormat format = BlockFormat::kNative);

// "INSERT INTO `db`.`t` (`a`, `b`) FORMAT Native"
std::string InsertSql(const std::string& qualified_table, const std::vector<RawColumn>& columns,
                      BlockFormat format = BlockFormat::kNative);

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
