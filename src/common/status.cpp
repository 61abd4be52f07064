#include "common/status.hpp"

namespace castor {

std::string_view code_name(Code code) noexcept {
  switch (code) {
    case Code::ok: return "ok";
    case Code::invalid_argument: return "invalid_argument";
    case Code::not_found: return "not_found";
    case Code::already_exists: return "already_exists";
    case Code::failed_precondition: return "failed_precondition";
    case Code::resource_exhausted: return "resource_exhausted";
    case Code::unauthenticated: return "unauthenticated";
    case Code::permission_denied: return "permission_denied";
    case Code::unavailable: return "unavailable";
    case Code::aborted: return "aborted";
    case Code::unimplemented: return "unimplemented";
    case Code::internal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string s(code_name(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace castor
