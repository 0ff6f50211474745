// Status and Result<T>: errors as values at module boundaries.
//
// The code tells the caller what to do: kRetry means "the same call may succeed later" (a timeout, a 503,
// a lost broker), kInvalid means "this input is wrong, dead-letter or reject it", kNotFound is a normal
// absence, everything else stops the operation. The message carries context for a human.
// Thread-safety: values; copy freely.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode {
  kOk,
  kInvalid,
  kNotFound,
  kRetry,
  kAlreadyExists,
  kIo,
  kInternal,
  kCancelled,
  kTimedOut,
  kStale
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {StatusCode::kInvalid, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status Retry(std::string m) { return {StatusCode::kRetry, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Io(std::string m) { return {StatusCode::kIo, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  // The operation ran out of its time budget and was stopped (a query past its timeout).
  static Status TimedOut(std::string m) { return {StatusCode::kTimedOut, std::move(m)}; }
  // This process lost the right to do the work (its lease was taken over, its session expired): abandon the
  // work without committing it and do not retry; the lease's new owner redoes it.
  static Status Stale(std::string m) { return {StatusCode::kStale, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsRetry() const { return code_ == StatusCode::kRetry; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsInvalid() const { return code_ == StatusCode::kInvalid; }
  bool IsTimedOut() const { return code_ == StatusCode::kTimedOut; }
  bool IsStale() const { return code_ == StatusCode::kStale; }

  // Returns this status with `context` prepended ("context: message"); Ok stays Ok.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return {code_, context + ": " + message_};
  }
  std::string ToString() const;

 private:
  Status(StatusCode c, std::string m) : code_(c), message_(std::move(m)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-Ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : v_(std::move(status)) {}  // NOLINT
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)      \
  do {                             \
    ::sluice::Status _st = (expr); \
    if (!_st.ok()) return _st;     \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

// ASSIGN_OR_RETURN(auto x, Foo()): declares x from a Result, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(_res_, __LINE__), lhs, expr)
