#include "rules/route_filter.hpp"

#include "rules/filter_eval.hpp"
#include "rules/filter_parser.hpp"

namespace castor::rules {

Result<RouteFilter> RouteFilter::parse(std::string_view text) {
  auto ast = filter::parse(text);
  if (!ast) return ast.status();
  RouteFilter f;
  f.text_ = std::string(text);
  for (const auto& n : ast->nodes)
    if (n.kind == filter::NodeKind::body_path) f.reads_body_ = true;
  f.ast_ = std::make_shared<const filter::Ast>(std::move(*ast));
  return f;
}

RouteFilter RouteFilter::disabled(std::string text) {
  RouteFilter f;
  f.text_ = std::move(text);
  return f;
}

bool RouteFilter::matches(const CloudEvent& event, const json::value* data) const {
  return ast_ && filter::evaluate(*ast_, event, data) == filter::Truth::yes;
}

}  // namespace castor::rules
