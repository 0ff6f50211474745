#include "warehouse/duckdb/duckdb_nested_columns.h"

#include <map>
#include <memory>

namespace sluice {
namespace {

// DuckDB's type text as a tree: struct fields by name, a list's element; anything else is a leaf.
struct TypeText {
  std::map<std::string, TypeText> fields;  // STRUCT(...)
  std::shared_ptr<TypeText> element;       // X[]
  bool is_struct = false;
};

class TypeTextParser {
 public:
  explicit TypeTextParser(const std::string& text) : s_(text) {}

  Result<TypeText> Parse() {
    ASSIGN_OR_RETURN(TypeText t, Type());
    if (pos_ != s_.size()) return Error("unexpected text");
    return t;
  }

 private:
  Status Error(const std::string& what) const {
    return Status::Invalid("cannot read DuckDB type '" + s_ + "': " + what + " at " + std::to_string(pos_));
  }
  bool Eat(const std::string& word) {
    if (s_.compare(pos_, word.size(), word) != 0) return false;
    pos_ += word.size();
    return true;
  }
  void Spaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
  }

  Result<std::string> Name() {
    std::string name;
    if (pos_ < s_.size() && s_[pos_] == '"') {  // "a ""quoted"" name"
      for (++pos_; pos_ < s_.size(); ++pos_) {
        if (s_[pos_] != '"') {
          name += s_[pos_];
        } else if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
          name += '"';
          ++pos_;
        } else {
          ++pos_;
          return name;
        }
      }
      return Error("unterminated name");
    }
    while (pos_ < s_.size() && s_[pos_] != ' ') name += s_[pos_++];
    if (name.empty()) return Error("missing field name");
    return name;
  }

  Result<TypeText> Type() {
    TypeText t;
    if (Eat("STRUCT(")) {
      t.is_struct = true;
      while (true) {
        Spaces();
        ASSIGN_OR_RETURN(std::string name, Name());
        Spaces();
        ASSIGN_OR_RETURN(TypeText field, Type());
        t.fields[name] = std::move(field);
        Spaces();
        if (Eat(")")) break;
        if (!Eat(",")) return Error("expected , or )");
      }
    } else {
      // A scalar, or a type with arguments (DECIMAL(18,3), MAP(...)) that is never evolved: skip it whole.
      int depth = 0;
      while (pos_ < s_.size()) {
        char c = s_[pos_];
        if (c == '(') ++depth;
        if (depth == 0 && (c == ',' || c == ')' || c == '[')) break;
        if (c == ')') --depth;
        ++pos_;
      }
    }
    while (Eat("[")) {  // X[] is a list of X; X[3] an array, read alike
      while (pos_ < s_.size() && s_[pos_] != ']') ++pos_;
      if (!Eat("]")) return Error("unterminated []");
      TypeText list;
      list.element = std::make_shared<TypeText>(std::move(t));
      t = std::move(list);
    }
    return t;
  }

  const std::string& s_;
  size_t pos_ = 0;
};

void Collect(std::vector<std::string> path, const TypeText& have, const FieldType& wanted,
             std::vector<MissingNestedField>* out) {
  if (wanted.kind == TypeKind::kList) {
    if (!have.element) return;  // not a list: a changed type, which is not evolved here
    path.push_back("element");
    Collect(std::move(path), *have.element, *wanted.element, out);
    return;
  }
  if (wanted.kind != TypeKind::kStruct || !have.is_struct) return;
  for (const Field& f : wanted.fields) {
    std::vector<std::string> at = path;
    at.push_back(f.name);
    auto found = have.fields.find(f.name);
    if (found == have.fields.end()) {
      out->push_back({std::move(at), f.type});
    } else {
      Collect(std::move(at), found->second, f.type, out);
    }
  }
}

}  // namespace

Result<std::vector<MissingNestedField>> MissingNestedFields(const std::string& column, const std::string& existing,
                                                            const FieldType& wanted) {
  ASSIGN_OR_RETURN(TypeText have, TypeTextParser(existing).Parse());
  std::vector<MissingNestedField> out;
  Collect({column}, have, wanted, &out);
  return out;
}

}  // namespace sluice
