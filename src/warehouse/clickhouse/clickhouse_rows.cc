#include "warehouse/clickhouse/clickhouse_rows.h"

#include <algorithm>
#include <numeric>

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

std::string InsertSql(const std::string& qualified_table, const std::vector<RawColumn>& columns) {
  std::string sql = "INSERT INTO " + qualified_table + " (";
  for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", " : "") + ChIdent(columns[c].name);
  return sql + ") FORMAT RowBinary";
}

Result<std::vector<RowBlock>> EncodeRawBlocks(const Batch& batch, const std::vector<RawColumn>& columns,
                                              size_t max_rows) {
  using Source = RawColumn::Source;
  const size_t n = batch.rows();
  const int event_field = batch.stream().schema.event_time;
  // Unique within a batch, so the order (and ClickHouse's sort by the same key) is the same on every retry.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    int64_t ta = batch.event_time(a), tb = batch.event_time(b);
    if (ta != tb) return ta < tb;
    const std::string& pa = batch.partition_names[batch.row_partition[a]];
    const std::string& pb = batch.partition_names[batch.row_partition[b]];
    if (pa != pb) return pa < pb;
    return batch.row_offset[a] < batch.row_offset[b];
  });

  // The default bytes of absent columns, once.
  std::vector<std::string> defaults(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].source != Source::kAbsent) continue;
    RowBinaryWriter w(defaults[c]);
    RETURN_IF_ERROR(WriteDefault(w, columns[c].type).WithContext("column " + columns[c].name));
  }

  std::vector<RowBlock> blocks;
  size_t k = 0;
  while (k < n) {
    RowBlock block;
    block.event_date = DayOf(batch.event_time(order[k]));
    // ~100 bytes a row of tracking events: one allocation for most blocks.
    block.data.reserve(std::min(n - k, max_rows) * 128);
    RowBinaryWriter w(block.data);
    while (k < n && block.rows < max_rows && DayOf(batch.event_time(order[k])) == block.event_date) {
      const uint32_t i = order[k];
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
            block.data += defaults[c];
            break;
        }
      }
      ++block.rows;
      ++k;
    }
    blocks.push_back(std::move(block));
  }
  return blocks;
}

}  // namespace sluice
