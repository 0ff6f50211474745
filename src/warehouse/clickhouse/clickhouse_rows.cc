#include "warehouse/clickhouse/clickhouse_rows.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <span>

#include "core/time.h"

namespace sluice {
namespace {

uint32_t DateTimeOf(int64_t micros) {
  int64_t s = FloorDiv(micros, 1'000'000);
  return static_cast<uint32_t>(std::clamp<int64_t>(s, 0, UINT32_MAX));  // DateTime's range
}

uint16_t DateOf(int64_t days) { return static_cast<uint16_t>(std::clamp<int64_t>(days, 0, UINT16_MAX)); }

// Writes value i of `col` as the type ClickHouseType/InnerType gave it (Nullable scalars, Tuple, Array).
void WriteValue(RowBinaryWriter& w, const ColumnBuilder& col, size_t i) {
  const FieldType& t = col.type();
  switch (t.kind) {
    case TypeKind::kStruct:
      for (const auto& child : col.children()) WriteValue(w, child, i);
      return;
    case TypeKind::kList: {
      if (!col.valid(i)) {
        w.VarUInt(0);
        return;
      }
      uint64_t begin = col.list_begin(i), end = col.list_end(i);
      w.VarUInt(end - begin);
      for (uint64_t j = begin; j < end; ++j) WriteValue(w, col.element(), j);
      return;
    }
    default:
      break;
  }
  w.Null(!col.valid(i));
  if (!col.valid(i)) return;
  switch (t.kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      w.String(col.string_at(i));
      break;
    case TypeKind::kInt64:
      w.Fixed<int64_t>(col.int_at(i));
      break;
    case TypeKind::kFloat64:
      w.Fixed<double>(col.double_at(i));
      break;
    case TypeKind::kBool:
      w.Fixed<uint8_t>(col.int_at(i) != 0);
      break;
    case TypeKind::kTimestamp:
      w.Fixed<uint32_t>(DateTimeOf(col.int_at(i)));
      break;
    case TypeKind::kDate:
      w.Fixed<uint16_t>(DateOf(col.int_at(i)));
      break;
    default:
      break;
  }
}

// One field of a Nested column (a list of structs): the list's length, then that field of each element.
void WriteNestedField(RowBinaryWriter& w, const ColumnBuilder& list, int child, size_t i) {
  if (!list.valid(i)) {
    w.VarUInt(0);
    return;
  }
  uint64_t begin = list.list_begin(i), end = list.list_end(i);
  w.VarUInt(end - begin);
  const ColumnBuilder& field = list.element().children()[child];
  for (uint64_t j = begin; j < end; ++j) WriteValue(w, field, j);
}

// The arguments of "Name(a, b(c, d))": {"a", "b(c, d)"}.
std::vector<std::string_view> TypeArgs(std::string_view type) {
  std::vector<std::string_view> out;
  size_t open = type.find('(');
  if (open == std::string_view::npos || type.back() != ')') return out;
  std::string_view inner = type.substr(open + 1, type.size() - open - 2);
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= inner.size(); ++i) {
    if (i == inner.size() || (inner[i] == ',' && depth == 0)) {
      std::string_view a = inner.substr(start, i - start);
      while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
      out.push_back(a);
      start = i + 1;
    } else if (inner[i] == '(') {
      ++depth;
    } else if (inner[i] == ')') {
      --depth;
    }
  }
  return out;
}

}  // namespace

Status WriteDefault(RowBinaryWriter& w, std::string_view type) {
  auto starts = [&](std::string_view p) { return type.substr(0, p.size()) == p; };
  if (starts("Nullable(")) {
    w.Null(true);
  } else if (starts("Array(")) {
    w.VarUInt(0);
  } else if (starts("Tuple(")) {
    for (auto a : TypeArgs(type)) RETURN_IF_ERROR(WriteDefault(w, a));
  } else if (starts("LowCardinality(")) {
    auto args = TypeArgs(type);
    if (args.size() != 1) return Status::Invalid("clickhouse type " + std::string(type));
    return WriteDefault(w, args[0]);
  } else if (type == "String") {
    w.VarUInt(0);
  } else if (type == "Int8" || type == "UInt8") {
    w.Fixed<uint8_t>(0);
  } else if (type == "Int16" || type == "UInt16" || type == "Date") {
    w.Fixed<uint16_t>(0);
  } else if (type == "Int32" || type == "UInt32" || type == "Float32" || type == "DateTime") {
    w.Fixed<uint32_t>(0);
  } else if (type == "Int64" || type == "UInt64" || type == "Float64") {
    w.Fixed<uint64_t>(0);
  } else {
    return Status::Invalid("no default for clickhouse type " + std::string(type) + " in a raw table");
  }
  return Status::Ok();
}

std::string InsertSql(const std::string& qualified_table, const std::vector<RawColumn>& columns, BlockFormat format) {
  std::string sql = "INSERT INTO " + qualified_table + " (";
  for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", " : "") + ChIdent(columns[c].name);
  return sql + (format == BlockFormat::kNative ? ") FORMAT Native" : ") FORMAT RowBinary");
}

void ByteBuffer::Reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  // Mapped and populated in one call: the kernel zero-fills the pages in one go, where writing a fresh
  // buffer would take a page fault every 4 KB (~15k for a 60 MB block, ~0.1 s on the development machine).
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  Mapping grown(static_cast<char*>(p), capacity);
  if (size_) std::memcpy(grown.data, data_.data, size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

ByteBuffer::Mapping::~Mapping() {
  if (data) ::munmap(data, bytes);
}

char* ByteBuffer::Extend(size_t n) {
  if (size_ + n > capacity_) Reserve(std::max(size_ + n, capacity_ + capacity_ / 2));
  char* at = data_.data + size_;
  size_ += n;
  return at;
}

BlockPlan PlanRawBlocks(const Batch& batch, size_t max_rows) {
  const size_t n = batch.rows();
  BlockPlan plan;
  // The raw table's sorting key: (event time as DateTime holds it, _batch, _partition_index, _offset), the
  // batch constant; for a table from before issue 13, (time, _partition, _offset), the same order, since
  // partition indexes follow the names. Unique within a batch, so the order is the same on every retry, and
  // it is the server's own: it finds the block sorted.
  plan.partition_index = batch.PartitionRanks();
  const std::vector<uint32_t>& rank = plan.partition_index;
  struct Key {
    uint64_t time_and_partition;  // DateTime seconds << 32 | rank of the partition's name
    int64_t offset;
    uint32_t row;
    bool operator<(const Key& o) const {
      return time_and_partition != o.time_and_partition ? time_and_partition < o.time_and_partition : offset < o.offset;
    }
  };
  // Rows mostly arrive in time order (a few late ones): the rows in order go to `keys` as read, the others
  // to `late`, which alone is sorted and then merged in.
  std::vector<Key> keys, late;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Key key{uint64_t{DateTimeOf(batch.event_time(i))} << 32 | rank[batch.row_partition[i]], batch.row_offset[i],
            static_cast<uint32_t>(i)};
    if (keys.empty() || !(key < keys.back()))
      keys.push_back(key);
    else
      late.push_back(key);
  }
  plan.order.resize(n);
  std::sort(late.begin(), late.end());
  size_t at = 0;
  auto put = [&](const Key& key) { plan.order[at++] = key.row; };
  auto a = keys.begin(), b = late.begin();
  while (a != keys.end() && b != late.end()) put(*b < *a ? *b++ : *a++);
  std::for_each(a, keys.end(), put);
  std::for_each(b, late.end(), put);

  size_t k = 0;
  while (k < n) {
    BlockPlan::Block block;
    block.event_date = DayOf(batch.event_time(plan.order[k]));
    block.begin = k;
    while (k < n && k - block.begin < max_rows && DayOf(batch.event_time(plan.order[k])) == block.event_date) ++k;
    block.end = k;
    plan.blocks.push_back(block);
  }
  return plan;
}

namespace {

// ---- Native: per block, the number of columns and rows, then each column's name, type and values ----

using Rows = std::span<const uint32_t>;

size_t VarUIntSize(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

char* PutVarUInt(char* p, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>(v | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}

void PutString(ByteBuffer& out, std::string_view s) {
  char* p = PutVarUInt(out.Extend(VarUIntSize(s.size()) + s.size()), s.size());
  std::memcpy(p, s.data(), s.size());
}

// A fixed-width column: value(row) for each row, little-endian (x86-64 and arm64 are).
template <typename T, typename F>
void PutFixed(ByteBuffer& out, Rows rows, F value) {
  char* p = out.Extend(rows.size() * sizeof(T));
  for (uint32_t r : rows) {
    T v = value(r);
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
  }
}

// A Nullable column's null map: 1 for NULL.
void PutNullMap(ByteBuffer& out, const ColumnBuilder& col, Rows rows) {
  char* p = out.Extend(rows.size());
  for (uint32_t r : rows) *p++ = col.valid(r) ? 0 : 1;
}

// A String column (NULL rows as ''): each value's length, then its bytes.
void PutStrings(ByteBuffer& out, const ColumnBuilder& col, Rows rows) {
  size_t bytes = 0;
  for (uint32_t r : rows) {
    size_t len = col.valid(r) ? col.string_at(r).size() : 0;
    bytes += VarUIntSize(len) + len;
  }
  char* p = out.Extend(bytes);
  for (uint32_t r : rows) {
    std::string_view s = col.valid(r) ? col.string_at(r) : std::string_view();
    if (s.size() < 0x80) {
      *p++ = static_cast<char>(s.size());
    } else {
      p = PutVarUInt(p, s.size());
    }
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
}

// `count` copies of one String value.
void PutRepeatedString(ByteBuffer& out, std::string_view s, size_t count) {
  const size_t one = VarUIntSize(s.size()) + s.size();
  char* p = out.Extend(one * count);
  if (count == 0) return;
  std::memcpy(PutVarUInt(p, s.size()), s.data(), s.size());
  for (size_t done = 1; done < count;) {  // doubling copies
    size_t n = std::min(done, count - done);
    std::memcpy(p + done * one, p, n * one);
    done += n;
  }
}

// The element rows of `rows`' lists, and the lists' end offsets (Array's offsets column: UInt64, cumulative).
std::vector<uint32_t> PutArrayOffsets(ByteBuffer& out, const ColumnBuilder& list, Rows rows) {
  std::vector<uint32_t> elements;
  char* p = out.Extend(rows.size() * sizeof(uint64_t));
  uint64_t end = 0;
  for (uint32_t r : rows) {
    if (list.valid(r))
      for (uint64_t j = list.list_begin(r); j < list.list_end(r); ++j) elements.push_back(static_cast<uint32_t>(j));
    end = elements.size();
    std::memcpy(p, &end, sizeof end);
    p += sizeof end;
  }
  return elements;
}

// Values of `col` for `rows`, as ClickHouseType/InnerType gave them: scalars Nullable unless `not_null`
// (the event time), a struct as a Tuple (each element column in turn), a list as an Array.
void PutColumn(ByteBuffer& out, const ColumnBuilder& col, Rows rows, bool not_null = false) {
  const FieldType& t = col.type();
  switch (t.kind) {
    case TypeKind::kStruct:
      for (const auto& child : col.children()) PutColumn(out, child, rows);
      return;
    case TypeKind::kList: {
      std::vector<uint32_t> elements = PutArrayOffsets(out, col, rows);
      PutColumn(out, col.element(), elements);
      return;
    }
    default:
      break;
  }
  if (!not_null) PutNullMap(out, col, rows);
  switch (t.kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      PutStrings(out, col, rows);
      break;
    case TypeKind::kInt64:
      PutFixed<int64_t>(out, rows, [&](uint32_t r) { return col.valid(r) ? col.int_at(r) : 0; });
      break;
    case TypeKind::kFloat64:
      PutFixed<double>(out, rows, [&](uint32_t r) { return col.valid(r) ? col.double_at(r) : 0.0; });
      break;
    case TypeKind::kBool:
      PutFixed<uint8_t>(out, rows, [&](uint32_t r) { return col.valid(r) && col.int_at(r) != 0; });
      break;
    case TypeKind::kTimestamp:
      PutFixed<uint32_t>(out, rows, [&](uint32_t r) { return col.valid(r) ? DateTimeOf(col.int_at(r)) : 0; });
      break;
    case TypeKind::kDate:
      PutFixed<uint16_t>(out, rows, [&](uint32_t r) { return col.valid(r) ? DateOf(col.int_at(r)) : 0; });
      break;
    default:
      break;
  }
}

// Bytes of one value of a fixed-width type, 0 for another.
size_t FixedWidth(std::string_view type) {
  if (type == "Int8" || type == "UInt8") return 1;
  if (type == "Int16" || type == "UInt16" || type == "Date") return 2;
  if (type == "Int32" || type == "UInt32" || type == "Float32" || type == "DateTime") return 4;
  if (type == "Int64" || type == "UInt64" || type == "Float64") return 8;
  return 0;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// `rows` default values of `type` (NULL, 0, '', empty array, tuple of defaults), for a column whose field
// left the config; `out` null only checks that the type is known.
bool PutDefaults(ByteBuffer* out, std::string_view type, size_t rows) {
  if (StartsWith(type, "Nullable(")) {
    auto args = TypeArgs(type);
    if (args.size() != 1 || !PutDefaults(nullptr, args[0], 0)) return false;
    if (out) std::memset(out->Extend(rows), 1, rows);
    return PutDefaults(out, args[0], rows);
  }
  if (StartsWith(type, "Array(")) {
    if (out) std::memset(out->Extend(rows * sizeof(uint64_t)), 0, rows * sizeof(uint64_t));  // no elements
    return true;
  }
  if (StartsWith(type, "Tuple(")) {
    for (auto a : TypeArgs(type))
      if (!PutDefaults(out, a, rows)) return false;
    return true;
  }
  size_t width = type == "String" ? 1 : FixedWidth(type);  // '' is one byte: its length
  if (width == 0) return false;
  if (out) std::memset(out->Extend(rows * width), 0, rows * width);
  return true;
}

void EncodeNative(const Batch& batch, const std::vector<RawColumn>& columns, const BlockPlan& plan,
                  const BlockPlan::Block& block, Rows rows, ByteBuffer& out) {
  using Source = RawColumn::Source;
  const int event_field = batch.stream().schema.event_time;
  const size_t n = rows.size();
  char* p = out.Extend(VarUIntSize(columns.size()) + VarUIntSize(n));
  PutVarUInt(PutVarUInt(p, columns.size()), n);
  for (const RawColumn& col : columns) {
    PutString(out, col.name);
    PutString(out, col.type);
    if (n == 0) continue;  // no rows: no bytes of data
    switch (col.source) {
      case Source::kField:
        if (col.field == event_field)
          PutFixed<uint32_t>(out, rows, [&](uint32_t r) { return DateTimeOf(batch.event_time(r)); });
        else
          PutColumn(out, batch.columns[col.field], rows);
        break;
      case Source::kNestedField: {
        const ColumnBuilder& list = batch.columns[col.field];
        std::vector<uint32_t> elements = PutArrayOffsets(out, list, rows);
        PutColumn(out, list.element().children()[col.child], elements);
        break;
      }
      case Source::kEventDate: {
        const uint16_t day = DateOf(block.event_date);
        PutFixed<uint16_t>(out, rows, [&](uint32_t) { return day; });
        break;
      }
      case Source::kExtra:
        PutColumn(out, batch.extra, rows);
        break;
      case Source::kBatchKey: {
        const uint64_t key = batch.key();
        PutFixed<uint64_t>(out, rows, [&](uint32_t) { return key; });
        break;
      }
      case Source::kPartitionIndex:
        PutFixed<uint32_t>(out, rows, [&](uint32_t r) { return plan.partition_index[batch.row_partition[r]]; });
        break;
      case Source::kBatchId:
        PutRepeatedString(out, batch.id, n);
        break;
      case Source::kSource:
        PutRepeatedString(out, batch.source, n);
        break;
      case Source::kPartition:
        if (batch.partition_names.size() == 1) {
          PutRepeatedString(out, batch.partition_names[0], n);
        } else {
          size_t bytes = 0;
          for (uint32_t r : rows) {
            const std::string& s = batch.partition_names[batch.row_partition[r]];
            bytes += VarUIntSize(s.size()) + s.size();
          }
          char* q = out.Extend(bytes);
          for (uint32_t r : rows) {
            const std::string& s = batch.partition_names[batch.row_partition[r]];
            q = PutVarUInt(q, s.size());
            std::memcpy(q, s.data(), s.size());
            q += s.size();
          }
        }
        break;
      case Source::kOffset:
        PutFixed<int64_t>(out, rows, [&](uint32_t r) { return batch.row_offset[r]; });
        break;
      case Source::kAbsent:
        PutDefaults(&out, col.type, n);  // FormatFor checked the type
        break;
    }
  }
}

// ---- RowBinary: row by row ----

Status EncodeRowBinary(const Batch& batch, const std::vector<RawColumn>& columns, const BlockPlan& plan,
                       const BlockPlan::Block& block, Rows rows, ByteBuffer& buffer) {
  using Source = RawColumn::Source;
  const int event_field = batch.stream().schema.event_time;
  // The default bytes of absent columns, once.
  std::vector<std::string> defaults(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].source != Source::kAbsent) continue;
    RowBinaryWriter w(defaults[c]);
    RETURN_IF_ERROR(WriteDefault(w, columns[c].type).WithContext("column " + columns[c].name));
  }
  const uint64_t key = batch.key();
  std::string data;
  data.reserve(rows.size() * 128);
  RowBinaryWriter w(data);
  for (uint32_t i : rows) {
    for (size_t c = 0; c < columns.size(); ++c) {
      const RawColumn& col = columns[c];
      switch (col.source) {
        case Source::kField:
          if (col.field == event_field)
            w.Fixed<uint32_t>(DateTimeOf(batch.event_time(i)));
          else
            WriteValue(w, batch.columns[col.field], i);
          break;
        case Source::kNestedField:
          WriteNestedField(w, batch.columns[col.field], col.child, i);
          break;
        case Source::kEventDate:
          w.Fixed<uint16_t>(DateOf(block.event_date));
          break;
        case Source::kExtra:
          WriteValue(w, batch.extra, i);
          break;
        case Source::kBatchKey:
          w.Fixed<uint64_t>(key);
          break;
        case Source::kPartitionIndex:
          w.Fixed<uint32_t>(plan.partition_index[batch.row_partition[i]]);
          break;
        case Source::kBatchId:
          w.String(batch.id);
          break;
        case Source::kSource:
          w.String(batch.source);
          break;
        case Source::kPartition:
          w.String(batch.partition_names[batch.row_partition[i]]);
          break;
        case Source::kOffset:
          w.Fixed<int64_t>(batch.row_offset[i]);
          break;
        case Source::kAbsent:
          data += defaults[c];
          break;
      }
    }
  }
  std::memcpy(buffer.Extend(data.size()), data.data(), data.size());
  return Status::Ok();
}

}  // namespace

BlockFormat FormatFor(const std::vector<RawColumn>& columns) {
  for (const auto& c : columns)
    if (c.source == RawColumn::Source::kAbsent && !PutDefaults(nullptr, c.type, 0)) return BlockFormat::kRowBinary;
  return BlockFormat::kNative;
}

Status EncodeBlock(const Batch& batch, const std::vector<RawColumn>& columns, const BlockPlan& plan, size_t block,
                   BlockFormat format, ByteBuffer& out) {
  const BlockPlan::Block& b = plan.blocks[block];
  Rows rows(plan.order.data() + b.begin, b.rows());
  if (format == BlockFormat::kRowBinary) return EncodeRowBinary(batch, columns, plan, b, rows, out);
  for (const auto& c : columns)
    if (c.source == RawColumn::Source::kAbsent && !PutDefaults(nullptr, c.type, 0))
      return Status::Invalid("no Native encoding of clickhouse type " + c.type + " (column " + c.name + ")");
  out.Reserve(out.size() + EstimateBlockBytes(batch, columns, b.rows()));  // Extend grows past it if needed
  EncodeNative(batch, columns, plan, b, rows, out);
  return Status::Ok();
}

size_t EstimateBlockBytes(const Batch& batch, const std::vector<RawColumn>& columns, size_t rows) {
  // The records' own bytes (text: more than their values take as Native), plus the constant columns and a
  // length or null byte per column. Not the columns' capacities: a batch reserves room for a full cut.
  const size_t record = batch.read_records > 0 ? static_cast<size_t>(batch.read_bytes / batch.read_records) : 256;
  size_t partition = 0;
  for (const auto& p : batch.partition_names) partition = std::max(partition, p.size());
  const size_t per_row = record + batch.id.size() + batch.source.size() + partition + columns.size();
  return per_row * rows + 64 * columns.size() + 4096;
}

Result<std::vector<RowBlock>> EncodeRawBlocks(const Batch& batch, const std::vector<RawColumn>& columns,
                                              size_t max_rows, BlockFormat format) {
  BlockPlan plan = PlanRawBlocks(batch, max_rows);
  std::vector<RowBlock> blocks;
  ByteBuffer buffer;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    buffer.Clear();
    RETURN_IF_ERROR(EncodeBlock(batch, columns, plan, i, format, buffer));
    blocks.push_back({plan.blocks[i].event_date, plan.blocks[i].rows(), std::string(buffer.view())});
  }
  return blocks;
}

}  // namespace sluice
