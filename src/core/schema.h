// A stream's declared schema: named fields with types, possibly nested (struct, list).
// Values; immutable once built; thread-safe to share.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class TypeKind { kString, kInt64, kFloat64, kBool, kTimestamp, kDate, kJson, kStruct, kList };

// How a numeric JSON value is read as a timestamp. ISO-8601 text is always accepted.
enum class EpochUnit { kSeconds, kMillis, kMicros };

struct Field;

struct FieldType {
  TypeKind kind = TypeKind::kString;
  EpochUnit epoch = EpochUnit::kSeconds;  // kTimestamp only
  std::vector<Field> fields;               // kStruct only
  std::shared_ptr<FieldType> element;      // kList only

  // The warehouse type, e.g. "STRUCT(id BIGINT, login VARCHAR)" (DuckDB dialect).
  std::string SqlType() const;
  // What a user wrote, e.g. "list<string>", for messages.
  std::string Describe() const;
  bool operator==(const FieldType& o) const;
};

struct Field {
  std::string name;
  FieldType type;
  bool operator==(const Field& o) const { return name == o.name && type == o.type; }
};

struct Schema {
  std::vector<Field> fields;
  int event_time = -1;  // index into fields of the event-time field (a top-level timestamp)

  // Index of a top-level field, or -1.
  int IndexOf(std::string_view name) const;
};

// Parses a scalar type name: string, int64 (int, bigint), float64 (double, float), bool (boolean),
// timestamp (timestamp_s, timestamp_ms, timestamp_us), date, json. False when unknown.
bool ParseScalarType(std::string_view name, FieldType& out);

// Quotes an identifier for SQL: "name" with inner quotes doubled.
std::string QuoteIdent(std::string_view name);
// Quotes a string literal for SQL: 'text' with inner quotes doubled.
std::string QuoteLiteral(std::string_view text);

}  // namespace sluice
