#include "api/stream.hpp"

#include <algorithm>
#include <cctype>

namespace castor::api {
namespace {

bool contains_token(std::string_view haystack, std::string_view needle) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [&](char a, char b) { return lower(a) == lower(b); });
  return it != haystack.end();
}

}  // namespace

std::optional<StreamTransport> requested_stream(const HttpRequest& request) {
  auto upgrade = request.header("Upgrade");
  auto connection = request.header("Connection");
  if (upgrade && connection && contains_token(*upgrade, "websocket") &&
      contains_token(*connection, "upgrade")) {
    return StreamTransport::websocket;
  }
  if (auto accept = request.header("Accept");
      accept && contains_token(*accept, "text/event-stream")) {
    return StreamTransport::sse;
  }
  return std::nullopt;
}

}  // namespace castor::api
