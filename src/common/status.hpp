// Status and Result: how Castor reports expected failures (bad input, not found, conflict).
// Exceptions are reserved for bugs and start-up; every user-caused error carries a code and a
// sentence that says how to fix it.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace castor {

enum class Code : unsigned char {
  ok,
  invalid_argument,     // the input is malformed or violates a rule
  not_found,            // the thing addressed does not exist
  already_exists,       // create of something that exists
  failed_precondition,  // the state does not allow it (e.g. still referenced, ETag mismatch)
  resource_exhausted,   // a limit or quota was hit; retry later or ask for less
  unauthenticated,      // no or bad credentials
  permission_denied,    // credentials lack the role
  unavailable,          // temporarily cannot serve (shutting down, overloaded)
  aborted,              // cancelled or interrupted
  unimplemented,        // not supported here
  internal,             // a bug or an I/O failure
};

std::string_view code_name(Code code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  // `reason` is a short machine-readable cause for APIs that have their own error vocabulary
  // (e.g. "DigitalTwinNotFound" in the ADT error shape).
  Status(Code code, std::string message, std::string reason)
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status ok() { return {}; }
  bool is_ok() const noexcept { return code_ == Code::ok; }
  explicit operator bool() const noexcept { return is_ok(); }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::string& reason() const noexcept { return reason_; }
  Status with_reason(std::string reason) const& { return {code_, message_, std::move(reason)}; }
  std::string to_string() const;

 private:
  Code code_ = Code::ok;
  std::string message_;
  std::string reason_;
};

inline Status invalid_argument(std::string m) { return {Code::invalid_argument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::not_found, std::move(m)}; }
inline Status already_exists(std::string m) { return {Code::already_exists, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {Code::failed_precondition, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {Code::resource_exhausted, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::internal, std::move(m)}; }

// Result<T>: a value or a non-ok Status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).is_ok()); }  // NOLINT

  bool is_ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return is_ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Status& status() const& {
    static const Status ok_status;
    return is_ok() ? ok_status : std::get<1>(v_);
  }
  Status&& take_status() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace castor

// Propagate a non-ok Status from an expression returning Status.
#define CASTOR_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::castor::Status castor_status_ = (expr); \
    if (!castor_status_.is_ok()) return castor_status_; \
  } while (0)
