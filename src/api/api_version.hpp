// The ADT `api-version` query parameter: every published data-plane version is accepted and
// served with 2023-10-31 semantics; a missing or unknown version is a 400 in the ADT error shape.
// Castor's own /castor/v1 routes never require it.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "api/http.hpp"

namespace castor::api {

inline constexpr std::string_view kAdtApiVersion = "2023-10-31";

// Every published Azure Digital Twins data-plane api-version, oldest first.
std::span<const std::string_view> published_api_versions() noexcept;

// nullopt when `request` carries a published api-version; otherwise the 400 response to send.
std::optional<HttpResponse> check_api_version(const HttpRequest& request);

}  // namespace castor::api
