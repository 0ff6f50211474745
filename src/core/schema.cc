#include "core/schema.h"

namespace sluice {

std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string FieldType::SqlType() const {
  switch (kind) {
    case TypeKind::kString: return "VARCHAR";
    case TypeKind::kInt64: return "BIGINT";
    case TypeKind::kFloat64: return "DOUBLE";
    case TypeKind::kBool: return "BOOLEAN";
    case TypeKind::kTimestamp: return "TIMESTAMP";
    case TypeKind::kDate: return "DATE";
    case TypeKind::kJson: return "JSON";
    case TypeKind::kList: return element->SqlType() + "[]";
    case TypeKind::kStruct: {
      std::string s = "STRUCT(";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) s += ", ";
        s += QuoteIdent(fields[i].name) + " " + fields[i].type.SqlType();
      }
      return s + ")";
    }
  }
  return "VARCHAR";
}

std::string FieldType::Describe() const {
  switch (kind) {
    case TypeKind::kString: return "string";
    case TypeKind::kInt64: return "int64";
    case TypeKind::kFloat64: return "float64";
    case TypeKind::kBool: return "bool";
    case TypeKind::kTimestamp:
      return epoch == EpochUnit::kSeconds ? "timestamp" : epoch == EpochUnit::kMillis ? "timestamp_ms" : "timestamp_us";
    case TypeKind::kDate: return "date";
    case TypeKind::kJson: return "json";
    case TypeKind::kList: return "list<" + element->Describe() + ">";
    case TypeKind::kStruct: {
      std::string s = "struct{";
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i) s += ", ";
        s += fields[i].name + ": " + fields[i].type.Describe();
      }
      return s + "}";
    }
  }
  return "?";
}

bool FieldType::operator==(const FieldType& o) const {
  if (kind != o.kind) return false;
  if (kind == TypeKind::kTimestamp) return epoch == o.epoch;
  if (kind == TypeKind::kStruct) return fields == o.fields;
  if (kind == TypeKind::kList) return *element == *o.element;
  return true;
}

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name) return static_cast<int>(i);
  return -1;
}

bool ParseScalarType(std::string_view n, FieldType& out) {
  out = FieldType{};
  if (n == "string" || n == "varchar" || n == "text") out.kind = TypeKind::kString;
  else if (n == "int64" || n == "int" || n == "bigint" || n == "integer") out.kind = TypeKind::kInt64;
  else if (n == "float64" || n == "double" || n == "float") out.kind = TypeKind::kFloat64;
  else if (n == "bool" || n == "boolean") out.kind = TypeKind::kBool;
  else if (n == "timestamp" || n == "timestamp_s") out.kind = TypeKind::kTimestamp;
  else if (n == "timestamp_ms") { out.kind = TypeKind::kTimestamp; out.epoch = EpochUnit::kMillis; }
  else if (n == "timestamp_us") { out.kind = TypeKind::kTimestamp; out.epoch = EpochUnit::kMicros; }
  else if (n == "date") out.kind = TypeKind::kDate;
  else if (n == "json") out.kind = TypeKind::kJson;
  else return false;
  return true;
}

}  // namespace sluice
