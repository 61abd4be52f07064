#include "twin/jobs/line_parser.hpp"

#include <simdjson.h>

#include "twin/jobs/import_reader.hpp"

namespace castor::twin::jobs {
namespace {

static_assert(simdjson::SIMDJSON_PADDING <= kLinePadding,
              "import lines must carry the padding simdjson reads past them");

constexpr std::size_t kMaxDepth = 128;  // as json::ParseLimits

Status not_json(std::string what) {
  return {Code::invalid_argument, "the line is not valid JSON: " + std::move(what),
          "InvalidArgument"};
}

Status convert(simdjson::dom::element e, json::value& out, std::size_t depth);

Status convert_object(simdjson::dom::object o, json::object& out, std::size_t depth) {
  out.reserve(o.size());
  for (auto [key, value] : o) {
    auto [it, fresh] = out.emplace(boost::json::string_view(key.data(), key.size()), nullptr);
    if (!fresh) return not_json("duplicate key \"" + std::string(key) + "\"");
    CASTOR_RETURN_IF_ERROR(convert(value, it->value(), depth + 1));
  }
  return Status::ok();
}

Status convert(simdjson::dom::element e, json::value& out, std::size_t depth) {
  if (depth > kMaxDepth)
    return not_json("nested deeper than " + std::to_string(kMaxDepth) + " levels");
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::OBJECT:
      return convert_object(e.get_object().value_unsafe(), out.emplace_object(), depth);
    case T::ARRAY: {
      json::array& a = out.emplace_array();
      simdjson::dom::array arr = e.get_array().value_unsafe();
      a.reserve(arr.size());
      for (simdjson::dom::element x : arr)
        CASTOR_RETURN_IF_ERROR(convert(x, a.emplace_back(nullptr), depth + 1));
      return Status::ok();
    }
    case T::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      out.emplace_string().assign(s.data(), s.size());
      return Status::ok();
    }
    case T::INT64: out = e.get_int64().value_unsafe(); return Status::ok();
    case T::UINT64: out = e.get_uint64().value_unsafe(); return Status::ok();
    case T::DOUBLE: out = e.get_double().value_unsafe(); return Status::ok();
    case T::BOOL: out = e.get_bool().value_unsafe(); return Status::ok();
    case T::NULL_VALUE: out = nullptr; return Status::ok();
  }
  return not_json("unknown value");
}

}  // namespace

struct LineParser::Impl {
  simdjson::dom::parser parser;
};

LineParser::LineParser() : impl_(std::make_unique<Impl>()) {}
LineParser::~LineParser() = default;

Status LineParser::parse_object(std::string_view line, json::object& out) {
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(line.data(), line.size(), false).get(root))
    return not_json(simdjson::error_message(err));
  simdjson::dom::object o;
  if (root.get_object().get(o))
    return Status(Code::invalid_argument, "the line is not a JSON object", "InvalidArgument");
  return convert_object(o, out, 1);
}

Status LineParser::parse_value(std::string_view line, json::value& out) {
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(line.data(), line.size(), false).get(root))
    return not_json(simdjson::error_message(err));
  return convert(root, out, 0);
}

}  // namespace castor::twin::jobs
