// RouteFilter: an event route's filter text compiled once and evaluated per event ("true" routes
// everything, "false" nothing). Immutable and cheap to copy; safe to share between threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/status.hpp"
#include "rules/cloud_event.hpp"
#include "rules/filter_ast.hpp"

namespace castor::rules {

class RouteFilter {
 public:
  // 400 EventRouteFilterInvalid with a position and a sentence when `text` is not a filter.
  static Result<RouteFilter> parse(std::string_view text);
  // A filter that matches nothing but keeps `text` (a stored filter that no longer parses).
  static RouteFilter disabled(std::string text);

  // `data` is the event's data parsed as JSON, or nullptr.
  bool matches(const CloudEvent& event, const json::value* data) const;
  // True when the filter reads $body (callers parse `data` only then).
  bool reads_body() const noexcept { return reads_body_; }
  const std::string& text() const noexcept { return text_; }

 private:
  std::string text_;
  std::shared_ptr<const filter::Ast> ast_;
  bool reads_body_ = false;
};

}  // namespace castor::rules
