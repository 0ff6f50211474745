// ClickHouseWarehouse: the collectors' tables, kept by natural key (keyed_table.h; README.md "Keyed tables").
//
// A table is ReplacingMergeTree(_version) ORDER BY its key (on a cluster replicated whole to every server),
// read with FINAL: an upsert is an insert of rows with a newer _version, and FINAL keeps the newest row per
// key. Key columns are not Nullable (a sorting key cannot be in 18.16): a NULL key value is stored as its
// type's default ('' / 0 / 1970-01-01), so NULL and the default are one key. A top-level list of structs is
// Nested (columns `assets.name`, ...), as in raw tables. Rows go as JSONEachRow, converted from the collector's
// JSON to what 18.16 parses (timestamps as epoch seconds, bools as 0/1, structs as arrays, Nested per field).
// The delta views have no window functions to use (18.16): each partition's rows become one array sorted by
// the order column (groupArray of tuples, which keeps NULLs), and ARRAY JOIN with arrayEnumerate gives each
// row its predecessor.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "core/time.h"
#include "warehouse/clickhouse/clickhouse_warehouse.h"

namespace sluice {
namespace {

using nlohmann::json;

bool IsNestedList(const FieldType& t) { return t.kind == TypeKind::kList && t.element->kind == TypeKind::kStruct; }
bool IsScalar(const FieldType& t) { return t.kind != TypeKind::kList && t.kind != TypeKind::kStruct; }

// The physical columns (name, type) of a keyed table, in order, then _version.
Result<std::vector<std::pair<std::string, std::string>>> KeyedColumns(const KeyedTable& table) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Field& f : table.columns) {
    const bool key = std::find(table.key.begin(), table.key.end(), f.name) != table.key.end();
    if (key) {
      if (!IsScalar(f.type)) return Status::Invalid("key column " + f.name + " of " + table.name + " is not a scalar");
      std::string type = ClickHouseType(f.type);  // Nullable(X)
      out.emplace_back(f.name, type.substr(9, type.size() - 10));
    } else if (IsNestedList(f.type)) {
      for (const Field& c : f.type.element->fields)
        out.emplace_back(f.name + "." + c.name, "Array(" + ClickHouseType(c.type) + ")");
    } else {
      out.emplace_back(f.name, ClickHouseType(f.type));
    }
  }
  out.emplace_back("_version", "UInt64");
  return out;
}

// A collector's JSON value as JSONEachRow of the ClickHouse type of `type` (NULL stays null).
json ToClickHouse(const FieldType& type, const json& v) {
  if (v.is_null()) {
    if (type.kind == TypeKind::kList) return json::array();
    if (type.kind == TypeKind::kStruct) {  // a Tuple is never NULL: a tuple of NULLs
      json out = json::array();
      for (const Field& c : type.fields) out.push_back(ToClickHouse(c.type, json()));
      return out;
    }
    return v;
  }
  switch (type.kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      return v.is_string() ? v : json(v.dump());
    case TypeKind::kInt64:
      if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
      if (v.is_number_float()) return static_cast<int64_t>(std::llround(v.get<double>()));
      if (v.is_string()) {
        try {
          return std::stoll(v.get<std::string>());
        } catch (...) {
          return json();
        }
      }
      return v;
    case TypeKind::kFloat64:
      if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
      return v;
    case TypeKind::kBool:
      if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
      if (v.is_number()) return v.get<double>() != 0 ? 1 : 0;
      return json();
    case TypeKind::kTimestamp: {
      // Epoch seconds: the server's time zone does not enter (text would be read in it).
      if (v.is_number()) return v;
      if (!v.is_string()) return json();
      auto micros = ParseIsoMicros(v.get<std::string>());
      return micros ? json(FloorDiv(*micros, kMicrosPerSecond)) : json();
    }
    case TypeKind::kDate: {
      if (!v.is_string()) return json();
      auto micros = ParseIsoMicros(v.get<std::string>());
      return micros ? json(FormatIsoDate(DayOf(*micros))) : json();
    }
    case TypeKind::kStruct: {
      json out = json::array();
      for (size_t i = 0; i < type.fields.size(); ++i) {
        const Field& c = type.fields[i];
        json child = v.is_object() && v.contains(c.name) ? v[c.name] : v.is_array() && i < v.size() ? v[i] : json();
        out.push_back(ToClickHouse(c.type, child));
      }
      return out;
    }
    case TypeKind::kList: {
      json out = json::array();
      if (v.is_array())
        for (const auto& e : v) out.push_back(ToClickHouse(*type.element, e));
      return out;
    }
  }
  return v;
}

// A key column's value: never null (the type's default instead).
json KeyValue(const FieldType& type, const json& v) {
  json out = ToClickHouse(type, v);
  if (!out.is_null()) return out;
  switch (type.kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
      return "";
    case TypeKind::kDate:
      return "1970-01-01";
    case TypeKind::kFloat64:
      return 0.0;
    default:
      return 0;
  }
}

// One JSONEachRow line for `row` of `table`.
std::string RowJson(const KeyedTable& table, const json& row, uint64_t version) {
  json out = json::object();
  for (const Field& f : table.columns) {
    const json v = row.is_object() && row.contains(f.name) ? row[f.name] : json();
    if (std::find(table.key.begin(), table.key.end(), f.name) != table.key.end()) {
      out[f.name] = KeyValue(f.type, v);
    } else if (IsNestedList(f.type)) {
      // Nested: one array per field, as `list.field` keys.
      for (const Field& c : f.type.element->fields) {
        json values = json::array();
        if (v.is_array())
          for (const auto& e : v) values.push_back(ToClickHouse(c.type, e.is_object() && e.contains(c.name) ? e[c.name] : json()));
        out[f.name + "." + c.name] = std::move(values);
      }
    } else {
      out[f.name] = ToClickHouse(f.type, v);
    }
  }
  out["_version"] = version;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

Status ClickHouseWarehouse::PrepareKeyedTables(const std::vector<KeyedTable>& tables,
                                               const std::vector<DeltaView>& views) {
  const ClickHouseTarget& t = options_.target;
  for (const KeyedTable& table : tables) {
    ASSIGN_OR_RETURN(auto wanted, KeyedColumns(table));
    std::vector<std::string> key;
    for (const auto& k : table.key) key.push_back(ChIdent(k));
    std::string columns;
    for (const auto& [name, type] : wanted) columns += (columns.empty() ? "" : ", ") + ChIdent(name) + " " + type;
    RETURN_IF_ERROR(CreateMissing(*client_, {{table.name, "CREATE TABLE IF NOT EXISTS " + ChTable(t, table.name) +
                                                              OnClusterClause(t) + " (" + columns + ") ENGINE = " +
                                                              GlobalEngine(t, table.name, "Replacing", "_version") +
                                                              " ORDER BY (" + Join(key) + ")"}})
                        .WithContext("creating table " + table.name));
    // Columns added to a declaration since; never dropped. A replicated ALTER reaches every replica itself.
    ASSIGN_OR_RETURN(auto have, TableColumns(table.name));
    for (const auto& [name, type] : wanted) {
      bool present = std::any_of(have.begin(), have.end(), [&](const auto& c) { return c.first == name; });
      if (present) continue;
      Status st = client_->Execute("ALTER TABLE " + ChTable(t, table.name) + " ADD COLUMN " + ChIdent(name) + " " + type);
      if (!st.ok() && st.message().find("already exists") == std::string::npos)
        return st.WithContext("adding column " + name + " to " + table.name);
    }
  }
  for (const DeltaView& v : views) {
    // The view's columns: the table's kept columns, then the unnested fields under their output names.
    std::vector<std::string> columns = v.columns;
    std::string source = ChTable(t, v.table) + " FINAL";
    if (!v.unnest.empty()) {
      std::vector<std::string> picked;
      for (const auto& c : v.columns) picked.push_back(ChIdent(c));
      for (const auto& [field, name] : v.unnest_fields) {
        picked.push_back("`_u`." + ChIdent(field) + " AS " + ChIdent(name));
        columns.push_back(name);
      }
      source = "(SELECT " + Join(picked) + " FROM " + source + " ARRAY JOIN " + ChIdent(v.unnest) + " AS `_u`)";
    }
    // Within a partition: (order_by, the other columns) tuples, sorted by order_by.
    std::vector<std::string> in_tuple = {v.order_by};
    for (const auto& c : columns)
      if (c != v.order_by && std::find(v.partition_by.begin(), v.partition_by.end(), c) == v.partition_by.end())
        in_tuple.push_back(c);
    auto index = [&](const std::string& c) {
      return std::to_string(std::find(in_tuple.begin(), in_tuple.end(), c) - in_tuple.begin() + 1);
    };
    std::vector<std::string> partition, tuple, out;
    for (const auto& p : v.partition_by) partition.push_back(ChIdent(p));
    for (const auto& c : in_tuple) tuple.push_back(ChIdent(c));
    for (const auto& c : columns) {
      bool is_partition = std::find(v.partition_by.begin(), v.partition_by.end(), c) != v.partition_by.end();
      out.push_back(is_partition ? ChIdent(c) : "tupleElement(`_t`, " + index(c) + ") AS " + ChIdent(c));
    }
    const std::string value = index(v.value);
    std::string delta = "tupleElement(`_t`, " + value + ") - tupleElement(`_r`[`_i` - 1], " + value + ")";
    if (!v.restart_on.empty()) {
      // A NULL on either side compares to NULL, which ifNull makes "same counter".
      const std::string id = index(v.restart_on);
      delta = "if(ifNull(tupleElement(`_t`, " + id + ") != tupleElement(`_r`[`_i` - 1], " + id + "), 0), tupleElement(`_t`, " +
              value + "), " + delta + ")";
    }
    out.push_back("if(`_i` = 1, NULL, " + delta + ") AS " + ChIdent(v.delta));
    std::string select = "SELECT " + Join(out) + " FROM (SELECT " + Join(partition) +
                         ", arraySort(x -> tupleElement(x, 1), groupArray(tuple(" + Join(tuple) + "))) AS `_r` FROM " +
                         "(SELECT " + [&] {
                           std::vector<std::string> cols;
                           for (const auto& c : columns) cols.push_back(ChIdent(c));
                           return Join(cols);
                         }() + " FROM " + source + ") GROUP BY " + Join(partition) +
                         ") ARRAY JOIN `_r` AS `_t`, arrayEnumerate(`_r`) AS `_i`";
    RETURN_IF_ERROR(CreateOrReplaceView(v.name, select).WithContext("creating view " + v.name));
  }
  return Status::Ok();
}

Result<int64_t> ClickHouseWarehouse::UpsertRows(const std::vector<KeyedRows>& batches) {
  // One insert per table: atomic for that table (one part, no partitions). Across tables, a failure leaves
  // the earlier tables written; re-running the collection rewrites the same keys, which changes nothing.
  int64_t written = 0;
  for (const KeyedRows& batch : batches) {
    if (batch.rows.empty()) continue;
    const uint64_t version = NextVersion();
    std::string data;
    for (const auto& row : batch.rows) data += RowJson(batch.table, row, version) + "\n";
    RETURN_IF_ERROR(InsertWithRetries("INSERT INTO " + ChTable(options_.target, batch.table.name) + " FORMAT JSONEachRow",
                                      data, "", nullptr)
                        .WithContext("upserting into " + batch.table.name));
    written += static_cast<int64_t>(batch.rows.size());
  }
  return written;
}

}  // namespace sluice
