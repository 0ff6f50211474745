// ColumnBuilder: one column of a batch, appended row by row while records are parsed, read column-wise by
// the warehouse loader. Recursive for struct (one child per field) and list (one element child).
// A record that fails half-way is undone with Truncate, so the columns always hold whole good rows.
// Not thread-safe: owned by one batch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/schema.h"

namespace sluice {

class ColumnBuilder {
 public:
  explicit ColumnBuilder(const FieldType* type);

  const FieldType& type() const { return *type_; }
  size_t size() const { return valid_.size(); }

  // Appends a null row (for a struct: null children too, so they stay aligned).
  void AppendNull();
  // int64, timestamp (micros), date (days), bool (0/1).
  void AppendInt(int64_t v) {
    valid_.push_back(1);
    ints_.push_back(v);
  }
  void AppendDouble(double v) {
    valid_.push_back(1);
    doubles_.push_back(v);
  }
  // string and json.
  void AppendString(std::string_view s) {
    valid_.push_back(1);
    arena_.append(s);
    str_end_.push_back(arena_.size());
  }
  // Struct: call after each child got exactly one value for this row.
  void AppendStructRow() { valid_.push_back(1); }
  // List: call after `count` values were appended to element().
  void AppendListRow(uint64_t count) {
    valid_.push_back(1);
    list_end_.push_back((list_end_.empty() ? 0 : list_end_.back()) + count);
  }

  // Makes room for `rows` rows without regrowth (a list's elements are not counted).
  void Reserve(size_t rows);

  // Drops rows past `rows` (undo of a partly parsed record).
  void Truncate(size_t rows);
  void Clear() { Truncate(0); }

  bool valid(size_t i) const { return valid_[i] != 0; }
  // Values are stored densely for valid rows only in kind-specific arrays; these read row i.
  int64_t int_at(size_t i) const { return ints_[i]; }
  double double_at(size_t i) const { return doubles_[i]; }
  std::string_view string_at(size_t i) const {
    size_t begin = i == 0 ? 0 : str_end_[i - 1];
    return std::string_view(arena_).substr(begin, str_end_[i] - begin);
  }
  uint64_t list_begin(size_t i) const { return i == 0 ? 0 : list_end_[i - 1]; }
  uint64_t list_end(size_t i) const { return list_end_[i]; }

  std::vector<ColumnBuilder>& children() { return children_; }
  const std::vector<ColumnBuilder>& children() const { return children_; }
  ColumnBuilder& element() { return children_[0]; }
  const ColumnBuilder& element() const { return children_[0]; }

  // Bytes held, for memory accounting.
  size_t MemoryBytes() const;

 private:
  const FieldType* type_;
  std::vector<uint8_t> valid_;
  // Every row has a slot in the array its kind uses, null rows included, so row i is at index i.
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::string arena_;
  std::vector<uint64_t> str_end_;
  std::vector<uint64_t> list_end_;
  std::vector<ColumnBuilder> children_;
};

}  // namespace sluice
