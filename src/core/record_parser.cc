#include "core/record_parser.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/time.h"

namespace sluice {
namespace ondemand = simdjson::ondemand;

namespace {

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The JSON text of any value, consuming it.
simdjson::simdjson_result<std::string_view> RawJson(ondemand::value& v) {
  ondemand::json_type t;
  if (auto e = v.type().get(t)) return e;
  if (t == ondemand::json_type::object) {
    ondemand::object o;
    if (auto e = v.get_object().get(o)) return e;
    return o.raw_json();
  }
  if (t == ondemand::json_type::array) {
    ondemand::array a;
    if (auto e = v.get_array().get(a)) return a.raw_json();  // propagate via simdjson_result below
    return a.raw_json();
  }
  return TrimRight(v.raw_json_token());
}

const char* TypeName(ondemand::json_type t) {
  switch (t) {
    case ondemand::json_type::array:
      return "an array";
    case ondemand::json_type::object:
      return "an object";
    case ondemand::json_type::number:
      return "a number";
    case ondemand::json_type::string:
      return "a string";
    case ondemand::json_type::boolean:
      return "a boolean";
    case ondemand::json_type::null:
      return "null";
  }
  return "?";
}

std::string WrongType(const std::string& path, const FieldType& want, ondemand::json_type got) {
  return "field '" + path + "': expected " + want.Describe() + ", got " + TypeName(got);
}

// Whether a top-level non-object document is at least valid JSON, to tell "not an object" from garbage.
bool ScalarIsValid(ondemand::document& doc, ondemand::json_type t) {
  switch (t) {
    case ondemand::json_type::null: {
      bool is_null = false;
      return !doc.is_null().get(is_null) && is_null;
    }
    case ondemand::json_type::number: {
      double d;
      return !doc.get_double().get(d);
    }
    case ondemand::json_type::boolean: {
      bool b;
      return !doc.get_bool().get(b);
    }
    case ondemand::json_type::string: {
      std::string_view s;
      return !doc.get_string().get(s);
    }
    default:
      return true;  // arrays: well-formed enough to be named
  }
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

RecordParser::RecordParser(const StreamConfig* stream) : stream_(stream) {
  for (size_t i = 0; i < stream->schema.fields.size(); ++i) top_index_[stream->schema.fields[i].name] = int(i);
  seen_.resize(stream->schema.fields.size());
  for (const auto& f : stream->schema.fields) plain_name_.push_back(f.name.find_first_of("\"\\") == std::string::npos);
}

void RecordParser::DeadLetter(Batch& batch, uint32_t partition, int64_t offset, std::string_view record,
                              std::string error) {
  sluice::DeadLetter d;
  d.partition = batch.partition_names[partition];
  d.offset = offset;
  d.error = std::move(error);
  d.raw_length = static_cast<int64_t>(record.size());
  d.raw = std::string(record.substr(0, kDeadLetterRawLimit));
  batch.dead_letters.push_back(std::move(d));
}

void RecordParser::AddExtra(std::string_view key_path, ondemand::value value) {
  std::string_view raw;
  if (RawJson(value).get(raw)) return;  // unreachable for a document that parsed; keep the row
  extra_ += extra_.empty() ? "{" : ",";
  AppendJsonString(extra_, key_path);
  extra_ += ':';
  extra_ += raw;
}

std::string RecordParser::ParseStruct(ondemand::object obj, ColumnBuilder& col, const std::string& path) {
  const auto& fields = col.type().fields;
  std::vector<uint8_t> seen(fields.size());
  size_t start = col.size();
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return "field '" + path + "': invalid JSON";
    size_t i = 0;
    while (i < fields.size() && fields[i].name != key) ++i;
    if (i == fields.size()) {
      AddExtra(path + "." + std::string(key), field.value());
      continue;
    }
    if (seen[i]) return "field '" + path + "." + std::string(key) + "' appears twice";
    seen[i] = 1;
    std::string err = ParseValue(field.value(), col.children()[i], path + "." + fields[i].name);
    if (!err.empty()) return err;
  }
  for (size_t i = 0; i < fields.size(); ++i)
    if (!seen[i]) col.children()[i].AppendNull();
  (void)start;
  col.AppendStructRow();
  return {};
}

std::string RecordParser::ParseValue(ondemand::value v, ColumnBuilder& col, const std::string& path) {
  ondemand::json_type t;
  if (v.type().get(t)) return "field '" + path + "': invalid JSON";
  if (t == ondemand::json_type::null) {
    col.AppendNull();
    return {};
  }
  const FieldType& ft = col.type();
  switch (ft.kind) {
    case TypeKind::kString: {
      std::string_view s;
      if (t != ondemand::json_type::string) return WrongType(path, ft, t);
      if (v.get_string().get(s)) return "field '" + path + "': invalid string";
      col.AppendString(s);
      return {};
    }
    case TypeKind::kInt64: {
      int64_t n;
      if (t != ondemand::json_type::number) return WrongType(path, ft, t);
      if (v.get_int64().get(n)) return "field '" + path + "': not a 64-bit integer";
      col.AppendInt(n);
      return {};
    }
    case TypeKind::kFloat64: {
      double d;
      if (t != ondemand::json_type::number) return WrongType(path, ft, t);
      if (v.get_double().get(d)) return "field '" + path + "': not a number";
      col.AppendDouble(d);
      return {};
    }
    case TypeKind::kBool: {
      bool b;
      if (t != ondemand::json_type::boolean) return WrongType(path, ft, t);
      if (v.get_bool().get(b)) return "field '" + path + "': not a boolean";
      col.AppendInt(b);
      return {};
    }
    case TypeKind::kTimestamp: {
      if (t == ondemand::json_type::string) {
        std::string_view s;
        if (v.get_string().get(s)) return "field '" + path + "': invalid string";
        auto us = ParseIsoMicros(s);
        if (!us) return "field '" + path + "': unparsable timestamp '" + std::string(s.substr(0, 64)) + "'";
        col.AppendInt(*us);
        return {};
      }
      if (t != ondemand::json_type::number) return WrongType(path, ft, t);
      double d;
      if (v.get_double().get(d) || !std::isfinite(d)) return "field '" + path + "': unparsable timestamp";
      double scale = ft.epoch == EpochUnit::kSeconds ? 1e6 : ft.epoch == EpochUnit::kMillis ? 1e3 : 1;
      double us = d * scale;
      if (std::fabs(us) > 9.2e18) return "field '" + path + "': timestamp out of range";
      col.AppendInt(static_cast<int64_t>(std::llround(us)));
      return {};
    }
    case TypeKind::kDate: {
      std::string_view s;
      if (t != ondemand::json_type::string) return WrongType(path, ft, t);
      if (v.get_string().get(s)) return "field '" + path + "': invalid string";
      auto days = ParseIsoDate(s);
      if (!days) {
        auto us = ParseIsoMicros(s);
        if (!us) return "field '" + path + "': unparsable date '" + std::string(s.substr(0, 64)) + "'";
        days = DayOf(*us);
      }
      col.AppendInt(*days);
      return {};
    }
    case TypeKind::kJson: {
      std::string_view raw;
      if (RawJson(v).get(raw)) return "field '" + path + "': invalid JSON";
      col.AppendString(raw);
      return {};
    }
    case TypeKind::kStruct: {
      if (t != ondemand::json_type::object) return WrongType(path, ft, t);
      ondemand::object o;
      if (v.get_object().get(o)) return "field '" + path + "': invalid JSON";
      return ParseStruct(o, col, path);
    }
    case TypeKind::kList: {
      if (t != ondemand::json_type::array) return WrongType(path, ft, t);
      ondemand::array a;
      if (v.get_array().get(a)) return "field '" + path + "': invalid JSON";
      uint64_t n = 0;
      for (auto elem : a) {
        ondemand::value ev;
        if (elem.get(ev)) return "field '" + path + "': invalid JSON";
        std::string err = ParseValue(ev, col.element(), path + "[" + std::to_string(n) + "]");
        if (!err.empty()) return err;
        ++n;
      }
      col.AppendListRow(n);
      return {};
    }
  }
  return "field '" + path + "': unsupported type";
}

std::string RecordParser::ParseTopLevel(ondemand::object obj, Batch& batch) {
  std::fill(seen_.begin(), seen_.end(), 0);
  const auto& fields = stream_->schema.fields;
  int guess = 0;  // producers write keys in a fixed order: try the field after the last one first
  for (auto result : obj) {
    ondemand::field field;
    if (std::move(result).get(field)) return "invalid JSON";
    int i;
    std::string_view key;
    // Raw key bytes equal to a name without quotes or backslashes are that name (the input is padded).
    if (guess < static_cast<int>(fields.size()) && plain_name_[guess] &&
        field.key().unsafe_is_equal(fields[guess].name)) {
      i = guess;
      key = fields[guess].name;
    } else {
      if (field.unescaped_key().get(key)) return "invalid JSON";
      auto it = top_index_.find(key);
      if (it == top_index_.end()) {
        AddExtra(key, field.value());
        continue;
      }
      i = it->second;
    }
    guess = i + 1;
    if (seen_[i]) return "field '" + std::string(key) + "' appears twice";
    seen_[i] = 1;
    const std::string& name = stream_->schema.fields[i].name;
    std::string err = ParseValue(field.value(), batch.columns[i], name);
    if (!err.empty()) return err;
  }
  int et = stream_->schema.event_time;
  if (!seen_[et] || !batch.columns[et].valid(batch.columns[et].size() - 1))
    return "missing event time '" + stream_->schema.fields[et].name + "'";
  for (size_t i = 0; i < seen_.size(); ++i)
    if (!seen_[i]) batch.columns[i].AppendNull();
  return {};
}

bool RecordParser::LandAndParse(std::string_view record, uint32_t partition, int64_t offset, int64_t next,
                                Batch& batch) {
  std::string& landing = batch.landing_data;
  const size_t start = landing.size();
  landing.append(record);
  if (std::memchr(record.data(), '\n', record.size()) != nullptr) {
    // Landing holds one record per line. A newline inside a valid JSON document can only be whitespace, so a
    // space keeps the document equivalent; the record itself is parsed as received, so an invalid one is
    // dead-lettered as it came.
    std::replace(landing.begin() + static_cast<std::ptrdiff_t>(start), landing.end(), '\n', ' ');
    landing.push_back('\n');
    return Parse(record, partition, offset, next, batch);
  }
  // simdjson reads up to SIMDJSON_PADDING bytes past the end: spaces appended for the parse, cut after it.
  landing.push_back('\n');
  landing.append(simdjson::SIMDJSON_PADDING, ' ');
  const bool row = Parse(std::string_view(landing.data() + start, record.size()), partition, offset, next, batch,
                         /*padded=*/true);
  landing.resize(start + record.size() + 1);
  return row;
}

bool RecordParser::Parse(std::string_view record, uint32_t partition, int64_t offset, int64_t next, Batch& batch,
                         bool padded) {
  batch.NoteRead(partition, offset, next, record.size());
  if (static_cast<int64_t>(record.size()) > stream_->max_record_bytes) {
    DeadLetter(batch, partition, offset, record,
               "record too long: " + std::to_string(record.size()) + " bytes > limit " +
                   std::to_string(stream_->max_record_bytes));
    return false;
  }
  const char* data = record.data();
  size_t capacity = record.size() + simdjson::SIMDJSON_PADDING;
  if (!padded) {
    padded_.assign(record);
    padded_.resize(capacity);
    data = padded_.data();
  }
  size_t rows_before = batch.rows();
  extra_.clear();
  std::string err;
  ondemand::document doc;
  ondemand::object obj;
  auto e = parser_.iterate(data, record.size(), capacity).get(doc);
  if (e) {
    err = e == simdjson::UTF8_ERROR ? "invalid UTF-8" : std::string("invalid JSON: ") + simdjson::error_message(e);
  } else {
    ondemand::json_type t;
    if (auto te = doc.type().get(t)) {
      err = te == simdjson::UTF8_ERROR ? "invalid UTF-8" : std::string("invalid JSON: ") + simdjson::error_message(te);
    } else if (t != ondemand::json_type::object) {
      err = ScalarIsValid(doc, t) ? "not a JSON object" : "invalid JSON";
    } else if (doc.get_object().get(obj)) {
      err = "invalid JSON";
    } else {
      err = ParseTopLevel(obj, batch);
      const char* rest = nullptr;
      if (err.empty() && doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS)
        err = "invalid JSON: trailing content after the object";
    }
  }
  if (!err.empty()) {
    for (auto& c : batch.columns) c.Truncate(rows_before);
    DeadLetter(batch, partition, offset, record, std::move(err));
    return false;
  }
  if (extra_.empty()) {
    batch.extra.AppendNull();
  } else {
    extra_ += '}';
    batch.extra.AppendString(extra_);
  }
  batch.row_partition.push_back(partition);
  batch.row_offset.push_back(offset);
  const int64_t hour = HourOf(batch.event_time(batch.rows() - 1));
  if (batch.event_hours.empty() || hour != last_hour_) batch.event_hours.insert(hour);
  last_hour_ = hour;  // consecutive events mostly share an hour: skip the set lookup
  return true;
}

}  // namespace sluice
