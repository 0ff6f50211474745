#include "core/column_builder.h"

namespace sluice {

ColumnBuilder::ColumnBuilder(const FieldType* type) : type_(type) {
  if (type->kind == TypeKind::kStruct)
    for (const auto& f : type->fields) children_.emplace_back(&f.type);
  if (type->kind == TypeKind::kList) children_.emplace_back(type->element.get());
}

void ColumnBuilder::AppendNull() {
  valid_.push_back(0);
  switch (type_->kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      str_end_.push_back(arena_.size());
      break;
    case TypeKind::kFloat64:
      doubles_.push_back(0);
      break;
    case TypeKind::kStruct:
      for (auto& c : children_) c.AppendNull();
      break;
    case TypeKind::kList:
      list_end_.push_back(list_end_.empty() ? 0 : list_end_.back());
      break;
    default:
      ints_.push_back(0);
  }
}

void ColumnBuilder::Reserve(size_t rows) {
  valid_.reserve(rows);
  switch (type_->kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      str_end_.reserve(rows);
      break;
    case TypeKind::kFloat64:
      doubles_.reserve(rows);
      break;
    case TypeKind::kStruct:
      for (auto& c : children_) c.Reserve(rows);
      break;
    case TypeKind::kList:
      list_end_.reserve(rows);
      break;
    default:
      ints_.reserve(rows);
  }
}

void ColumnBuilder::Truncate(size_t rows) {
  if (rows >= valid_.size()) return;
  valid_.resize(rows);
  switch (type_->kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      str_end_.resize(rows);
      arena_.resize(rows == 0 ? 0 : str_end_.back());
      break;
    case TypeKind::kFloat64:
      doubles_.resize(rows);
      break;
    case TypeKind::kStruct:
      for (auto& c : children_) c.Truncate(rows);
      break;
    case TypeKind::kList:
      list_end_.resize(rows);
      children_[0].Truncate(rows == 0 ? 0 : list_end_.back());
      break;
    default:
      ints_.resize(rows);
  }
}

size_t ColumnBuilder::MemoryBytes() const {
  size_t n = valid_.capacity() + ints_.capacity() * 8 + doubles_.capacity() * 8 + arena_.capacity() +
             str_end_.capacity() * 8 + list_end_.capacity() * 8;
  for (const auto& c : children_) n += c.MemoryBytes();
  return n;
}

}  // namespace sluice
