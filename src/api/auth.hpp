// Authentication and authorization of one request: the bearer token becomes a Principal, the
// route's Access is checked against its role, and device tokens are held to their own twins.
// Without a token store (--insecure-local) every caller is the local admin. Never logs tokens.
#pragma once

#include <memory>
#include <optional>

#include "api/http.hpp"
#include "api/router.hpp"
#include "api/token_store.hpp"

namespace castor::api {

class Authenticator {
 public:
  // `tokens` may be null: no authentication (--insecure-local).
  explicit Authenticator(TokenStore* tokens);

  // Sets request.principal and returns nullopt when the request may proceed to `route`;
  // otherwise returns the 401 (no or bad token) or 403 (role or twin not allowed) to send.
  // `memo`: the connection's last token (see TokenMemo), or null.
  std::optional<HttpResponse> authorize(HttpRequest& request, const RouteSpec& route,
                                        TokenMemo* memo = nullptr) const;

  // The principal behind the request's token if any, without failing (for audit records of
  // requests rejected before routing, e.g. 413).
  std::shared_ptr<const Principal> identify(const HttpRequest& request) const;

  bool enabled() const noexcept { return tokens_ != nullptr; }

 private:
  TokenStore* tokens_;
  std::shared_ptr<const Principal> local_;      // --insecure-local
  std::shared_ptr<const Principal> anonymous_;  // Access::anyone without a token
};

// The bearer token of an Authorization header value, or "" ("Bearer" is case-insensitive).
std::string_view bearer_token(std::string_view authorization) noexcept;

}  // namespace castor::api
