// Error responses in the Azure Digital Twins shape: {"error":{"code":"...","message":"..."}} with
// the x-ms-error-code header. Every message should say how to fix the problem; error bodies never
// echo secrets (tokens) back to the caller.
#pragma once

#include <string_view>

#include "api/http.hpp"
#include "common/status.hpp"

namespace castor::api {

// The ADT error body and header, e.g. error_response(404, "DigitalTwinNotFound", "...").
HttpResponse error_response(int status, std::string_view code, std::string_view message);

// A Status as an error response: the HTTP status from its Code (invalid_argument -> 400,
// not_found -> 404, already_exists -> 409, failed_precondition -> 412, ...) and the ADT code from
// Status::reason() (e.g. "DigitalTwinNotFound"), or a generic one (InvalidArgument, NotFound,
// Conflict, ...) when it has none.
HttpResponse error_response(const Status& status);
int http_status_for(Code code) noexcept;
std::string_view error_code_for(Code code) noexcept;

}  // namespace castor::api
