// Who is calling and what they may do: roles, the access a route requires, and the principal a
// bearer token resolves to. Pure vocabulary: it never reads tokens, files or requests.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace castor::api {

enum class Role : unsigned char {
  viewer,     // read everything
  operator_,  // viewer + change twins and relationships, send commands
  admin,      // everything: models, event routes, jobs, configuration
  device,     // ingest only, and only for its own twins
};

// What a route requires; registered with the route.
enum class Access : unsigned char {
  anyone,     // no token: /healthz, /readyz, /openapi.json
  viewer,     // viewer, operator, admin
  operator_,  // operator, admin
  admin,      // admin
  device,     // ingest: device (own twins only), operator, admin
};

std::string_view role_name(Role role) noexcept;  // "viewer", "operator", "admin", "device"
std::optional<Role> parse_role(std::string_view name) noexcept;
std::string_view access_name(Access access) noexcept;
bool role_allows(Role role, Access access) noexcept;
// The roles that satisfy `access`, for error messages: "operator or admin".
std::string roles_allowed_text(Access access);

struct Principal {
  std::string id;    // token id (first 12 hex digits of its hash); "local" with --insecure-local
  std::string name;  // token name chosen at creation
  Role role = Role::viewer;
  // device tokens only: twin ids this token may write. An entry ending in '*' is a prefix;
  // any other entry is an exact id.
  std::vector<std::string> twins;
  // False only for the "anonymous" caller of an Access::anyone route that sent no valid token.
  bool authenticated = true;

  // True when this principal may act on `twin_id`; non-device roles may act on every twin.
  bool may_access_twin(std::string_view twin_id) const noexcept;
  // True when may_access_twin holds for every id (no per-twin check is needed).
  bool may_access_every_twin() const noexcept { return role != Role::device; }
};

}  // namespace castor::api
