// Rendering DuckDB result vectors as text, for readers that stream results chunk by chunk (the materialised
// result's duckdb_value_varchar is not available on a streaming result).
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/record_parser.h"
#include "core/time.h"
#include "warehouse/duckdb/duckdb_internal.h"

namespace sluice {
namespace {

template <typename T>
const T& At(duckdb_vector vec, uint64_t row) {
  return static_cast<const T*>(duckdb_vector_get_data(vec))[row];
}

bool IsValid(duckdb_vector vec, uint64_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vec);
  return !validity || duckdb_validity_row_is_valid(validity, row);
}

template <typename T>
void AppendInteger(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// Text through DuckDB's own cast to VARCHAR, for types whose formatting is DuckDB's to define (floating point,
// decimals, times, intervals, UUIDs, blobs). Takes ownership of `value`.
void AppendDuckDbText(std::string& out, duckdb_value value) {
  char* text = duckdb_get_varchar(value);
  if (text) out += text;
  duckdb_free(text);
  duckdb_destroy_value(&value);
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (i < bytes.size()) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

duckdb_hugeint WidenToHugeint(int64_t v) {
  duckdb_hugeint h;
  h.lower = static_cast<uint64_t>(v);
  h.upper = v < 0 ? -1 : 0;
  return h;
}

// Whether the scalar renders as a JSON number or boolean (unquoted) inside JSON.
bool IsJsonBare(const CellType& t) {
  switch (t.id) {
    case DUCKDB_TYPE_BOOLEAN:
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_BIGINT:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
    case DUCKDB_TYPE_UBIGINT:
    case DUCKDB_TYPE_HUGEINT:
    case DUCKDB_TYPE_UHUGEINT:
    case DUCKDB_TYPE_DECIMAL:
    case DUCKDB_TYPE_FLOAT:
    case DUCKDB_TYPE_DOUBLE:
      return true;
    default:
      return false;
  }
}

bool IsNested(const CellType& t) {
  return t.id == DUCKDB_TYPE_LIST || t.id == DUCKDB_TYPE_ARRAY || t.id == DUCKDB_TYPE_STRUCT || t.id == DUCKDB_TYPE_MAP;
}

void AppendScalar(std::string& out, duckdb_vector vec, const CellType& t, uint64_t row) {
  switch (t.id) {
    case DUCKDB_TYPE_BOOLEAN:
      out += At<bool>(vec, row) ? "true" : "false";
      return;
    case DUCKDB_TYPE_TINYINT:
      return AppendInteger(out, At<int8_t>(vec, row));
    case DUCKDB_TYPE_SMALLINT:
      return AppendInteger(out, At<int16_t>(vec, row));
    case DUCKDB_TYPE_INTEGER:
      return AppendInteger(out, At<int32_t>(vec, row));
    case DUCKDB_TYPE_BIGINT:
      return AppendInteger(out, At<int64_t>(vec, row));
    case DUCKDB_TYPE_UTINYINT:
      return AppendInteger(out, At<uint8_t>(vec, row));
    case DUCKDB_TYPE_USMALLINT:
      return AppendInteger(out, At<uint16_t>(vec, row));
    case DUCKDB_TYPE_UINTEGER:
      return AppendInteger(out, At<uint32_t>(vec, row));
    case DUCKDB_TYPE_UBIGINT:
      return AppendInteger(out, At<uint64_t>(vec, row));
    case DUCKDB_TYPE_FLOAT:
      return AppendDuckDbText(out, duckdb_create_float(At<float>(vec, row)));
    case DUCKDB_TYPE_DOUBLE:
      return AppendDuckDbText(out, duckdb_create_double(At<double>(vec, row)));
    case DUCKDB_TYPE_HUGEINT:
      return AppendDuckDbText(out, duckdb_create_hugeint(At<duckdb_hugeint>(vec, row)));
    case DUCKDB_TYPE_UHUGEINT:
      return AppendDuckDbText(out, duckdb_create_uhugeint(At<duckdb_uhugeint>(vec, row)));
    case DUCKDB_TYPE_DECIMAL: {
      duckdb_decimal d{t.width, t.scale, {}};
      switch (t.internal) {
        case DUCKDB_TYPE_SMALLINT:
          d.value = WidenToHugeint(At<int16_t>(vec, row));
          break;
        case DUCKDB_TYPE_INTEGER:
          d.value = WidenToHugeint(At<int32_t>(vec, row));
          break;
        case DUCKDB_TYPE_BIGINT:
          d.value = WidenToHugeint(At<int64_t>(vec, row));
          break;
        default:
          d.value = At<duckdb_hugeint>(vec, row);
          break;
      }
      return AppendDuckDbText(out, duckdb_create_decimal(d));
    }
    case DUCKDB_TYPE_DATE:
      return AppendDuckDbText(out, duckdb_create_date(At<duckdb_date>(vec, row)));
    case DUCKDB_TYPE_TIME:
      return AppendDuckDbText(out, duckdb_create_time(At<duckdb_time>(vec, row)));
    case DUCKDB_TYPE_TIME_NS:
      return AppendDuckDbText(out, duckdb_create_time_ns(At<duckdb_time_ns>(vec, row)));
    case DUCKDB_TYPE_TIME_TZ:
      return AppendDuckDbText(out, duckdb_create_time_tz_value(At<duckdb_time_tz>(vec, row)));
    case DUCKDB_TYPE_TIMESTAMP:
      return AppendDuckDbText(out, duckdb_create_timestamp(At<duckdb_timestamp>(vec, row)));
    case DUCKDB_TYPE_TIMESTAMP_TZ:
    {
      // An instant: ISO-8601 in UTC ("2026-01-02T03:04:05Z"), whatever the session's time zone.
      const int64_t us = At<duckdb_timestamp>(vec, row).micros;
      if (us == std::numeric_limits<int64_t>::max() || us == -std::numeric_limits<int64_t>::max())
        out += us > 0 ? "infinity" : "-infinity";
      else
        out += FormatIsoMicros(us);
      return;
    }
    case DUCKDB_TYPE_TIMESTAMP_S:
      return AppendDuckDbText(out, duckdb_create_timestamp_s(At<duckdb_timestamp_s>(vec, row)));
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return AppendDuckDbText(out, duckdb_create_timestamp_ms(At<duckdb_timestamp_ms>(vec, row)));
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return AppendDuckDbText(out, duckdb_create_timestamp_ns(At<duckdb_timestamp_ns>(vec, row)));
    case DUCKDB_TYPE_INTERVAL:
      return AppendDuckDbText(out, duckdb_create_interval(At<duckdb_interval>(vec, row)));
    case DUCKDB_TYPE_UUID: {
      // Stored with the top bit flipped so that UUIDs sort as unsigned; duckdb_create_uuid takes the plain value.
      const auto& h = At<duckdb_hugeint>(vec, row);
      duckdb_uhugeint u{h.lower, static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63)};
      return AppendDuckDbText(out, duckdb_create_uuid(u));
    }
    case DUCKDB_TYPE_VARCHAR: {
      auto& s = const_cast<duckdb_string_t&>(At<duckdb_string_t>(vec, row));
      out.append(duckdb_string_t_data(&s), duckdb_string_t_length(s));
      return;
    }
    case DUCKDB_TYPE_BLOB: {
      // Bytes are not text: base64 (RFC 4648), which CSV, JSON and terminals all carry unharmed.
      auto& s = const_cast<duckdb_string_t&>(At<duckdb_string_t>(vec, row));
      out += Base64Encode(std::string_view(duckdb_string_t_data(&s), duckdb_string_t_length(s)));
      return;
    }
    case DUCKDB_TYPE_ENUM: {
      uint64_t index = t.internal == DUCKDB_TYPE_UTINYINT    ? At<uint8_t>(vec, row)
                       : t.internal == DUCKDB_TYPE_USMALLINT ? At<uint16_t>(vec, row)
                                                             : At<uint32_t>(vec, row);
      if (index < t.names.size()) out += t.names[index];
      return;
    }
    default:
      out += "(unsupported type)";
      return;
  }
}

void AppendJson(std::string& out, duckdb_vector vec, const CellType& t, uint64_t row);

// Row `row` of a LIST or MAP vector: its child rows [offset, offset + length).
duckdb_list_entry ListEntry(duckdb_vector vec, uint64_t row) { return At<duckdb_list_entry>(vec, row); }

void AppendNested(std::string& out, duckdb_vector vec, const CellType& t, uint64_t row) {
  switch (t.id) {
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: {
      const bool list = t.id == DUCKDB_TYPE_LIST;
      duckdb_vector child = list ? duckdb_list_vector_get_child(vec) : duckdb_array_vector_get_child(vec);
      const uint64_t begin = list ? ListEntry(vec, row).offset : row * t.array_size;
      const uint64_t length = list ? ListEntry(vec, row).length : t.array_size;
      out += '[';
      for (uint64_t i = 0; i < length; ++i) {
        if (i) out += ',';
        AppendJson(out, child, t.children[0], begin + i);
      }
      out += ']';
      return;
    }
    case DUCKDB_TYPE_STRUCT: {
      out += '{';
      for (size_t c = 0; c < t.children.size(); ++c) {
        if (c) out += ',';
        AppendJsonString(out, t.names[c]);
        out += ':';
        AppendJson(out, duckdb_struct_vector_get_child(vec, c), t.children[c], row);
      }
      out += '}';
      return;
    }
    case DUCKDB_TYPE_MAP: {
      // A map is a list of {key, value} structs; as JSON, an object keyed by the keys' text.
      duckdb_vector entries = duckdb_list_vector_get_child(vec);
      duckdb_vector keys = duckdb_struct_vector_get_child(entries, 0);
      duckdb_vector values = duckdb_struct_vector_get_child(entries, 1);
      const duckdb_list_entry e = ListEntry(vec, row);
      out += '{';
      for (uint64_t i = 0; i < e.length; ++i) {
        if (i) out += ',';
        std::string key;
        AppendScalar(key, keys, t.children[0], e.offset + i);
        AppendJsonString(out, key);
        out += ':';
        AppendJson(out, values, t.children[1], e.offset + i);
      }
      out += '}';
      return;
    }
    default:
      return;
  }
}

void AppendJson(std::string& out, duckdb_vector vec, const CellType& t, uint64_t row) {
  if (!IsValid(vec, row)) {
    out += "null";
  } else if (IsNested(t)) {
    AppendNested(out, vec, t, row);
  } else if (t.json_alias) {
    auto& s = const_cast<duckdb_string_t&>(At<duckdb_string_t>(vec, row));
    out.append(duckdb_string_t_data(&s), duckdb_string_t_length(s));
  } else {
    std::string text;
    AppendScalar(text, vec, t, row);
    const bool bare = IsJsonBare(t) && text != "nan" && text != "inf" && text != "-inf";
    if (bare)
      out += text;
    else
      AppendJsonString(out, text);
  }
}

}  // namespace

CellType ResolveCellType(duckdb_logical_type type) {
  CellType t;
  t.id = duckdb_get_type_id(type);
  if (char* alias = duckdb_logical_type_get_alias(type)) {
    t.json_alias = std::strcmp(alias, "JSON") == 0;
    duckdb_free(alias);
  }
  auto add_child = [&t](duckdb_logical_type child) {
    t.children.push_back(ResolveCellType(child));
    duckdb_destroy_logical_type(&child);
  };
  switch (t.id) {
    case DUCKDB_TYPE_DECIMAL:
      t.width = duckdb_decimal_width(type);
      t.scale = duckdb_decimal_scale(type);
      t.internal = duckdb_decimal_internal_type(type);
      break;
    case DUCKDB_TYPE_ENUM:
      t.internal = duckdb_enum_internal_type(type);
      for (uint32_t i = 0, n = duckdb_enum_dictionary_size(type); i < n; ++i) {
        char* v = duckdb_enum_dictionary_value(type, i);
        t.names.emplace_back(v ? v : "");
        duckdb_free(v);
      }
      break;
    case DUCKDB_TYPE_LIST:
      add_child(duckdb_list_type_child_type(type));
      break;
    case DUCKDB_TYPE_ARRAY:
      t.array_size = duckdb_array_type_array_size(type);
      add_child(duckdb_array_type_child_type(type));
      break;
    case DUCKDB_TYPE_STRUCT:
      for (idx_t c = 0, n = duckdb_struct_type_child_count(type); c < n; ++c) {
        char* name = duckdb_struct_type_child_name(type, c);
        t.names.emplace_back(name ? name : "");
        duckdb_free(name);
        add_child(duckdb_struct_type_child_type(type, c));
      }
      break;
    case DUCKDB_TYPE_MAP:
      add_child(duckdb_map_type_key_type(type));
      add_child(duckdb_map_type_value_type(type));
      break;
    default:
      break;
  }
  return t;
}

std::string CellTypeName(const CellType& t) {
  if (t.json_alias) return "JSON";
  static const std::pair<duckdb_type, const char*> kNames[] = {{DUCKDB_TYPE_BOOLEAN, "BOOLEAN"},
                                                               {DUCKDB_TYPE_TINYINT, "TINYINT"},
                                                               {DUCKDB_TYPE_SMALLINT, "SMALLINT"},
                                                               {DUCKDB_TYPE_INTEGER, "INTEGER"},
                                                               {DUCKDB_TYPE_BIGINT, "BIGINT"},
                                                               {DUCKDB_TYPE_UTINYINT, "UTINYINT"},
                                                               {DUCKDB_TYPE_USMALLINT, "USMALLINT"},
                                                               {DUCKDB_TYPE_UINTEGER, "UINTEGER"},
                                                               {DUCKDB_TYPE_UBIGINT, "UBIGINT"},
                                                               {DUCKDB_TYPE_HUGEINT, "HUGEINT"},
                                                               {DUCKDB_TYPE_UHUGEINT, "UHUGEINT"},
                                                               {DUCKDB_TYPE_FLOAT, "FLOAT"},
                                                               {DUCKDB_TYPE_DOUBLE, "DOUBLE"},
                                                               {DUCKDB_TYPE_DECIMAL, "DECIMAL"},
                                                               {DUCKDB_TYPE_VARCHAR, "VARCHAR"},
                                                               {DUCKDB_TYPE_BLOB, "BLOB"},
                                                               {DUCKDB_TYPE_DATE, "DATE"},
                                                               {DUCKDB_TYPE_TIME, "TIME"},
                                                               {DUCKDB_TYPE_TIME_NS, "TIME_NS"},
                                                               {DUCKDB_TYPE_TIME_TZ, "TIMETZ"},
                                                               {DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP"},
                                                               {DUCKDB_TYPE_TIMESTAMP_TZ, "TIMESTAMPTZ"},
                                                               {DUCKDB_TYPE_TIMESTAMP_S, "TIMESTAMP_S"},
                                                               {DUCKDB_TYPE_TIMESTAMP_MS, "TIMESTAMP_MS"},
                                                               {DUCKDB_TYPE_TIMESTAMP_NS, "TIMESTAMP_NS"},
                                                               {DUCKDB_TYPE_INTERVAL, "INTERVAL"},
                                                               {DUCKDB_TYPE_UUID, "UUID"},
                                                               {DUCKDB_TYPE_ENUM, "ENUM"},
                                                               {DUCKDB_TYPE_LIST, "LIST"},
                                                               {DUCKDB_TYPE_ARRAY, "ARRAY"},
                                                               {DUCKDB_TYPE_STRUCT, "STRUCT"},
                                                               {DUCKDB_TYPE_MAP, "MAP"},
                                                               {DUCKDB_TYPE_BIT, "BIT"}};
  for (const auto& [id, name] : kNames)
    if (id == t.id) return name;
  return "OTHER";
}

std::optional<std::string> CellText(duckdb_vector vec, const CellType& type, uint64_t row) {
  if (!IsValid(vec, row)) return std::nullopt;
  std::string out;
  if (IsNested(type))
    AppendNested(out, vec, type, row);
  else
    AppendScalar(out, vec, type, row);
  return out;
}

Status StatusFromDuckDb(duckdb_error_type type, const char* message) {
  std::string msg = message ? message : "DuckDB failed without a message";
  switch (type) {
    case DUCKDB_ERROR_TRANSACTION:
      // A write-write conflict: the same transaction may succeed when tried again. A write refused in a
      // read-only transaction is the statement's own fault, not a conflict.
      if (msg.find("read-only") != std::string::npos) return Status::Invalid(std::move(msg));
      return Status::Retry(std::move(msg));
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_OUT_OF_MEMORY:
      return Status::Io(std::move(msg));
    case DUCKDB_ERROR_INTERRUPT:
      return Status::Cancelled(std::move(msg));
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_FATAL:
      return Status::Internal(std::move(msg));
    default:
      return Status::Invalid(std::move(msg));
  }
}

}  // namespace sluice
