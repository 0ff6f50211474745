// ClickHouseReaders: people's SQL on ClickHouse (reader.h), run as a user whose users.xml profile sets
// readonly = 1. The server, not sluice, keeps it read-only: readonly = 1 in the *profile* refuses writes,
// DDL, SET, SETTINGS clauses and every table function (file(), url(), remote(), even numbers()), and a URL
// parameter cannot lift it (a URL readonly=1 for a user that is not readonly could be undone by readonly=0,
// and GET would run readonly=2, which allows table functions: readers always POST). ClickHouse's HTTP
// interface refuses more than one statement per request. A readonly user cannot change settings, so the
// profile fixes its limits too (README.md "Backend": what to configure); sluice adds its own per call:
//   - time: the request stops at limits.timeout and the query is killed (KILL QUERY by query_id, as the
//     loader's user) -> TimedOut; the profile's max_execution_time (code 159) -> TimedOut as well;
//   - rows: rows are read as the server streams them (TabSeparatedWithNamesAndTypes) and reading stops past
//     limits.max_rows, so memory stays bounded whatever the query returns; the profile's max_result_rows
//     with result_overflow_mode = break is the server's own bound (it overshoots by up to a block), and a
//     result cut by it is marked truncated too.
// Types come back as the DuckDB-style names the serving layer knows (BIGINT, DOUBLE, VARCHAR, TIMESTAMP,
// LIST, STRUCT); Array and Tuple values as JSON arrays.
// Thread-safety: thread-safe; at most `connections` queries run at once, others wait up to their timeout.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "warehouse/clickhouse/clickhouse_client.h"
#include "warehouse/reader.h"

namespace sluice {

class ClickHouseReaders : public Readers {
 public:
  // `reader`: the readonly user's login; `admin`: a login that may KILL the reader's queries (the
  // loader's). Checks that the reader's profile has readonly = 1 (Invalid otherwise, saying what to set).
  static Result<std::unique_ptr<ClickHouseReaders>> Open(ClickHouseOptions reader, ClickHouseOptions admin,
                                                         size_t connections);

  using Readers::Query;
  // `params` become typed literals (ClickHouseBindParams): ClickHouse 18.16 has no query parameters.
  Result<QueryResult> Query(const std::string& sql, const ReadLimits& limits,
                            const std::vector<QueryParam>& params) override;

  // The reader profile's max_result_rows (0: none).
  int64_t profile_max_result_rows() const { return profile_max_result_rows_; }

 private:
  ClickHouseReaders(ClickHouseOptions reader, ClickHouseOptions admin, size_t connections)
      : reader_(std::move(reader)), admin_(std::move(admin)), free_(connections) {}

  ClickHouseClient reader_;
  ClickHouseClient admin_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t free_;
  int64_t profile_max_result_rows_ = 0;
  bool profile_breaks_ = false;  // result_overflow_mode = break
  std::atomic<uint64_t> next_query_ = 0;
};

// `sql` with each placeholder $N outside string literals, quoted names and comments replaced by params[N-1]
// as a typed literal generated from its number, never from text: a timestamp is toDateTime(<seconds>, 'UTC')
// (DateTime has whole seconds: the micros are floored). Invalid when a placeholder has no value or a value
// no placeholder.
Result<std::string> ClickHouseBindParams(const std::string& sql, const std::vector<QueryParam>& params);

// A ClickHouse type name as the serving layer knows types (Nullable and LowCardinality dropped):
// Int64 -> BIGINT, Float64 -> DOUBLE, String -> VARCHAR, DateTime -> TIMESTAMP, Array -> LIST, Tuple -> STRUCT.
std::string ReaderTypeName(std::string_view clickhouse_type);
// A value of ClickHouse's quoted text form (['a',NULL], ('FR',1), [[1,2],[]]) as JSON (["a",null],
// ["FR",1], [[1,2],[]]); nan and inf become strings.
std::string ClickHouseValueToJson(std::string_view text);

}  // namespace sluice
