// Which fields a declaration added inside a nested column, read from DuckDB's type text; and that adding them
// in place keeps the rows a table already has.
#include "warehouse/duckdb/duckdb_nested_columns.h"

#include <gtest/gtest.h>

#include "warehouse/duckdb/duckdb_warehouse.h"

namespace sluice {
namespace {

FieldType Scalar(TypeKind kind) {
  FieldType t;
  t.kind = kind;
  return t;
}
FieldType Struct(std::vector<Field> fields) {
  FieldType t;
  t.kind = TypeKind::kStruct;
  t.fields = std::move(fields);
  return t;
}
FieldType List(FieldType element) {
  FieldType t;
  t.kind = TypeKind::kList;
  t.element = std::make_shared<FieldType>(std::move(element));
  return t;
}

std::vector<std::string> Paths(const Result<std::vector<MissingNestedField>>& missing) {
  std::vector<std::string> out;
  if (!missing.ok()) return {"error: " + missing.status().message()};
  for (const auto& m : *missing) {
    std::string p;
    for (const auto& part : m.path) p += (p.empty() ? "" : ".") + part;
    out.push_back(p + " " + m.type.SqlType());
  }
  return out;
}

TEST(DuckDbNestedColumnsTest, FindsFieldsMissingInsideListsOfStructsWithQuotedAndKeywordNames) {
  const FieldType asset = List(Struct({{"name", Scalar(TypeKind::kString)},
                                       {"size", Scalar(TypeKind::kInt64)},
                                       {"price range", Scalar(TypeKind::kFloat64)},
                                       {"id", Scalar(TypeKind::kInt64)},
                                       {"meta", Struct({{"select", Scalar(TypeKind::kString)}})}}));
  EXPECT_EQ(Paths(MissingNestedFields("assets", R"(STRUCT("name" VARCHAR, size BIGINT, "price range" DECIMAL(18,3))[])",
                                      asset)),
            (std::vector<std::string>{"assets.element.id BIGINT", R"(assets.element.meta STRUCT("select" VARCHAR))"}));
  EXPECT_EQ(Paths(MissingNestedFields("assets",
                                      R"(STRUCT("name" VARCHAR, size BIGINT, "price range" DOUBLE, id BIGINT, )"
                                      R"(meta STRUCT("select" VARCHAR, "say ""hi""" VARCHAR))[])",
                                      asset)),
            std::vector<std::string>{});
  // A scalar where a list is declared is a changed type: not evolved here, not an error.
  EXPECT_EQ(Paths(MissingNestedFields("assets", "VARCHAR", asset)), std::vector<std::string>{});
  EXPECT_EQ(Paths(MissingNestedFields("assets", "STRUCT(\"name VARCHAR", asset)).size(), 1u);
  EXPECT_EQ(Paths(MissingNestedFields("assets", "STRUCT(\"name VARCHAR", asset))[0].rfind("error: cannot read", 0), 0u);
}

TEST(DuckDbNestedColumnsTest, PrepareAddsTheFieldsInPlaceAndOldRowsReadThemNull) {
  auto wh = DuckDbWarehouse::Open(":memory:");
  ASSERT_TRUE(wh.ok()) << wh.status().ToString();
  KeyedTable before{
      "releases",
      {{"tag", Scalar(TypeKind::kString)}, {"assets", List(Struct({{"name", Scalar(TypeKind::kString)}}))}},
      {"tag"}};
  ASSERT_TRUE((*wh)->PrepareKeyedTables({before}, {}).ok());
  ASSERT_TRUE((*wh)->UpsertRows({KeyedRows{before, {{{"tag", "v1"}, {"assets", {{{"name", "a.deb"}}}}}}}}).ok());
  KeyedTable after = before;
  after.columns[1] = {"assets", List(Struct({{"name", Scalar(TypeKind::kString)}, {"id", Scalar(TypeKind::kInt64)}}))};
  Status st = (*wh)->PrepareKeyedTables({after}, {});
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(
      (*wh)->UpsertRows({KeyedRows{after, {{{"tag", "v2"}, {"assets", {{{"name", "b.deb"}, {"id", 7}}}}}}}}).ok());
  auto q = (*wh)->Query("SELECT string_agg(tag || '=' || assets::VARCHAR, ' ' ORDER BY tag) FROM releases");
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->Scalar(), "v1=[{'name': a.deb, 'id': NULL}] v2=[{'name': b.deb, 'id': 7}]");
}

}  // namespace
}  // namespace sluice
