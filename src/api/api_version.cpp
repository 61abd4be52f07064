#include "api/api_version.hpp"

#include <algorithm>
#include <string>

#include "api/error.hpp"

namespace castor::api {
namespace {

// From Azure/azure-rest-api-specs, specification/digitaltwins/data-plane (preview and stable).
constexpr std::string_view kPublished[] = {
    "2020-05-31-preview", "2020-10-31", "2021-06-30-preview", "2022-05-31",
    "2023-02-27-preview", "2023-06-30", "2023-10-31",
};

std::string published_list() {
  std::string out;
  for (std::string_view v : kPublished) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

}  // namespace

std::span<const std::string_view> published_api_versions() noexcept {
  return kPublished;
}

std::optional<HttpResponse> check_api_version(const HttpRequest& request) {
  auto version = request.query_param("api-version");
  if (!version || version->empty()) {
    return error_response(400, "MissingApiVersionParameter",
                          "The api-version query parameter (?api-version=) is required for all "
                          "requests. Add ?api-version=" +
                              std::string(kAdtApiVersion) + " to the URL.");
  }
  if (std::find(std::begin(kPublished), std::end(kPublished), *version) == std::end(kPublished)) {
    return error_response(400, "InvalidApiVersionParameter",
                          "The api-version '" + std::string(version->substr(0, 64)) +
                              "' is not supported. Use one of: " + published_list() + ".");
  }
  return std::nullopt;
}

}  // namespace castor::api
