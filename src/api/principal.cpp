#include "api/principal.hpp"

namespace castor::api {

std::string_view role_name(Role role) noexcept {
  switch (role) {
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::admin: return "admin";
    case Role::device: return "device";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view name) noexcept {
  if (name == "viewer") return Role::viewer;
  if (name == "operator") return Role::operator_;
  if (name == "admin") return Role::admin;
  if (name == "device") return Role::device;
  return std::nullopt;
}

std::string_view access_name(Access access) noexcept {
  switch (access) {
    case Access::anyone: return "anyone";
    case Access::viewer: return "viewer";
    case Access::operator_: return "operator";
    case Access::admin: return "admin";
    case Access::device: return "device";
  }
  return "unknown";
}

bool role_allows(Role role, Access access) noexcept {
  switch (access) {
    case Access::anyone: return true;
    case Access::viewer: return role != Role::device;
    case Access::operator_: return role == Role::operator_ || role == Role::admin;
    case Access::admin: return role == Role::admin;
    case Access::device:
      return role == Role::device || role == Role::operator_ || role == Role::admin;
  }
  return false;
}

std::string roles_allowed_text(Access access) {
  switch (access) {
    case Access::anyone: return "any caller";
    case Access::viewer: return "viewer, operator or admin";
    case Access::operator_: return "operator or admin";
    case Access::admin: return "admin";
    case Access::device: return "device, operator or admin";
  }
  return "admin";
}

bool Principal::may_access_twin(std::string_view twin_id) const noexcept {
  if (may_access_every_twin()) return true;
  for (const std::string& entry : twins) {
    if (!entry.empty() && entry.back() == '*') {
      if (twin_id.starts_with(std::string_view(entry).substr(0, entry.size() - 1))) return true;
    } else if (twin_id == entry) {
      return true;
    }
  }
  return false;
}

}  // namespace castor::api
