// Shared pieces of the Azure Digital Twins resources: reading JSON bodies strictly (content type,
// size, syntax), preconditions from headers, paging (max-items-per-page, continuation tokens,
// nextLink), and answering a Status in the ADT error shape. No resource logic here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.hpp"
#include "api/responder.hpp"
#include "common/json.hpp"
#include "common/status.hpp"
#include "twin/engine.hpp"

namespace castor::api::adt {

// The body as JSON. Requires a JSON content type (application/json, or application/json-patch+json
// when `patch`); empty bodies, malformed JSON and duplicate keys are 400 with the reason.
Result<json::value> json_body(const HttpRequest& req, bool patch = false);

// If-Match / If-None-Match: * as the engine's Conditions; an If-None-Match other than * is 400.
Result<twin::Conditions> conditions(const HttpRequest& req);

// Page size from the max-items-per-page header (1..`ceiling`, default `fallback`).
Result<std::size_t> page_size(const HttpRequest& req, std::size_t fallback, std::size_t ceiling);

// An opaque continuation token for an offset into a list, and back.
std::string offset_token(std::size_t offset);
Result<std::size_t> parse_offset_token(std::string_view token);
// The offset a request's continuationToken names (0 without one).
Result<std::size_t> page_offset(const HttpRequest& req);

// The URL of the next page: this request's URL with continuationToken set (absolute, from the
// Host header and the scheme Castor serves).
std::string next_link(const HttpRequest& req, std::string_view token, bool tls);

// {"value":[...], "nextLink": ...} of rendered JSON items [offset, offset + size).
std::string page_body(const std::vector<std::string>& items, std::size_t offset, std::size_t size,
                      const HttpRequest& req, bool tls);

// Answers `s` in the ADT error shape (code from Status::reason()).
void fail(const Responder& r, const Status& s);

// A 200 (or `status`) JSON response with an ETag header.
HttpResponse json_with_etag(int status, std::string body, const std::string& etag);

}  // namespace castor::api::adt
