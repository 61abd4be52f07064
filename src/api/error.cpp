#include "api/error.hpp"

#include "common/json.hpp"

namespace castor::api {

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  std::string body = "{\"error\":{\"code\":";
  json::append_string(body, code);
  body += ",\"message\":";
  json::append_string(body, message);
  body += "}}";
  HttpResponse r = HttpResponse::json(status, std::move(body));
  r.headers.set("x-ms-error-code", std::string(code));
  return r;
}

int http_status_for(Code code) noexcept {
  switch (code) {
    case Code::ok: return 200;
    case Code::invalid_argument: return 400;
    case Code::not_found: return 404;
    case Code::already_exists: return 409;
    case Code::failed_precondition: return 412;
    case Code::resource_exhausted: return 429;
    case Code::unauthenticated: return 401;
    case Code::permission_denied: return 403;
    case Code::unavailable: return 503;
    case Code::aborted: return 409;
    case Code::unimplemented: return 501;
    case Code::internal: return 500;
  }
  return 500;
}

std::string_view error_code_for(Code code) noexcept {
  switch (code) {
    case Code::ok: return "OK";
    case Code::invalid_argument: return "InvalidArgument";
    case Code::not_found: return "NotFound";
    case Code::already_exists: return "Conflict";
    case Code::failed_precondition: return "PreconditionFailed";
    case Code::resource_exhausted: return "TooManyRequests";
    case Code::unauthenticated: return "Unauthorized";
    case Code::permission_denied: return "Forbidden";
    case Code::unavailable: return "ServiceUnavailable";
    case Code::aborted: return "Conflict";
    case Code::unimplemented: return "NotImplemented";
    case Code::internal: return "InternalServerError";
  }
  return "InternalServerError";
}

HttpResponse error_response(const Status& status) {
  // A Status may carry its API-specific code (e.g. "DigitalTwinNotFound") as its reason.
  std::string_view code =
      status.reason().empty() ? error_code_for(status.code()) : std::string_view(status.reason());
  return error_response(http_status_for(status.code()), code, status.message());
}

}  // namespace castor::api
