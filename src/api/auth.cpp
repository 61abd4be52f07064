#include "api/auth.hpp"

#include "api/error.hpp"
#include "common/strings.hpp"

namespace castor::api {
namespace {

HttpResponse unauthorized(std::string_view message, bool bad_token) {
  HttpResponse r = error_response(401, "Unauthorized", message);
  r.headers.set("WWW-Authenticate", bad_token
                                        ? "Bearer realm=\"castor\", error=\"invalid_token\", "
                                          "error_description=\"The token is unknown or revoked\""
                                        : "Bearer realm=\"castor\"");
  return r;
}

}  // namespace

std::string_view bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !equals_ignoring_case(authorization.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  return token;
}

Authenticator::Authenticator(TokenStore* tokens)
    : tokens_(tokens),
      local_(std::make_shared<const Principal>(Principal{"local", "local", Role::admin, {}})),
      anonymous_(std::make_shared<const Principal>(
          Principal{"", "anonymous", Role::viewer, {}, /*authenticated=*/false})) {}

std::shared_ptr<const Principal> Authenticator::identify(const HttpRequest& request) const {
  if (tokens_ == nullptr) return local_;
  auto header = request.header("Authorization");
  std::string_view token = header ? bearer_token(*header) : std::string_view{};
  if (token.empty()) return anonymous_;
  auto p = tokens_->authenticate(token);
  return p ? p : anonymous_;
}

std::optional<HttpResponse> Authenticator::authorize(HttpRequest& request, const RouteSpec& route,
                                                     TokenMemo* memo) const {
  if (tokens_ == nullptr) {
    request.principal = local_;
    return std::nullopt;
  }
  if (route.access == Access::anyone) {
    request.principal = identify(request);
    return std::nullopt;
  }
  auto header = request.header("Authorization");
  std::string_view token = header ? bearer_token(*header) : std::string_view{};
  if (token.empty() && route.token_in_query)
    token = request.query_param("access_token").value_or(std::string_view{});
  if (token.empty()) {
    return unauthorized(
        route.token_in_query
            ? "This stream needs a bearer token: send the header 'Authorization: Bearer <token>' "
              "or, from a browser, the query parameter access_token=<token>. An administrator "
              "creates tokens with 'castor token create --data DIR --role ROLE'."
            : "This request needs a bearer token: send the header 'Authorization: Bearer "
              "<token>'. An administrator creates tokens with 'castor token create --data DIR "
              "--role ROLE'.",
        false);
  }
  auto principal = tokens_->authenticate(token, memo);
  if (!principal) {
    return unauthorized(
        "The bearer token is not valid: it is unknown or was revoked. Ask an administrator for "
        "a new one ('castor token create').",
        true);
  }
  request.principal = principal;
  if (!role_allows(principal->role, route.access)) {
    return error_response(403, "Forbidden",
                          "Token '" + principal->name + "' has the role " +
                              std::string(role_name(principal->role)) + "; this operation needs " +
                              roles_allowed_text(route.access) + ". Use a token with such a role.");
  }
  if (!route.twin_param.empty() && !principal->may_access_twin(request.param(route.twin_param))) {
    return error_response(403, "Forbidden",
                          "Device token '" + principal->name + "' may not write twin '" +
                              std::string(request.param(route.twin_param)) +
                              "'. Create a device token whose --twins covers it.");
  }
  return std::nullopt;
}

}  // namespace castor::api
