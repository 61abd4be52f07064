#include "rules/filter_eval.hpp"

#include <string_view>

namespace castor::rules::filter {
namespace {

// One operand's value. Strings and JSON objects are borrowed from the AST, event or data.
struct Value {
  enum class Kind : unsigned char { undefined, null, boolean, number, string, object, array };
  Kind kind = Kind::undefined;
  bool flag = false;
  bool integral = false;
  long long integer = 0;
  double number = 0;
  std::string_view text;
  const json::value* json = nullptr;  // object and array
};
using Kind = Value::Kind;

Value from_json(const json::value& v) {
  Value out;
  if (v.is_null()) {
    out.kind = Kind::null;
  } else if (v.is_bool()) {
    out.kind = Kind::boolean;
    out.flag = v.get_bool();
  } else if (v.is_string()) {
    out.kind = Kind::string;
    out.text = json::sv(v.get_string());
  } else if (v.is_object() || v.is_array()) {
    out.kind = v.is_object() ? Kind::object : Kind::array;
    out.json = &v;
  } else {
    out.kind = Kind::number;
    out.integral = json::as_int64(v, out.integer);
    json::as_double(v, out.number);
  }
  return out;
}

const std::string& attribute_value(const CloudEvent& e, Attribute a) {
  switch (a) {
    case Attribute::id: return e.id;
    case Attribute::source: return e.source;
    case Attribute::specversion: return e.specversion;
    case Attribute::type: return e.type;
    case Attribute::datacontenttype: return e.datacontenttype;
    case Attribute::dataschema: return e.dataschema;
    case Attribute::subject: return e.subject;
    case Attribute::time: return e.time;
    case Attribute::traceparent: return e.traceparent;
  }
  return e.id;
}

Value truth_value(Truth t) {
  Value v;
  if (t == Truth::unknown) return v;
  v.kind = Kind::boolean;
  v.flag = t == Truth::yes;
  return v;
}

Truth of(bool b) {
  return b ? Truth::yes : Truth::no;
}

// -1, 0, 1; or 2 when the values cannot be ordered.
int order(const Value& a, const Value& b) {
  if (a.kind == Kind::number && b.kind == Kind::number) {
    if (a.integral && b.integral)
      return a.integer < b.integer ? -1 : (a.integer > b.integer ? 1 : 0);
    return a.number < b.number ? -1 : (a.number > b.number ? 1 : (a.number == b.number ? 0 : 2));
  }
  if (a.kind == Kind::string && b.kind == Kind::string) {
    int c = a.text.compare(b.text);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return 2;
}

bool equal(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::null: return true;
    case Kind::boolean: return a.flag == b.flag;
    case Kind::number:
    case Kind::string: return order(a, b) == 0;
    case Kind::object:
    case Kind::array: return *a.json == *b.json;
    case Kind::undefined: return false;
  }
  return false;
}

Truth compare(const Value& a, CompareOp op, const Value& b) {
  if (a.kind == Kind::undefined || b.kind == Kind::undefined) return Truth::unknown;
  if (op == CompareOp::eq) return of(equal(a, b));
  if (op == CompareOp::ne) return of(!equal(a, b));
  int c = order(a, b);
  if (c == 2) return Truth::unknown;
  switch (op) {
    case CompareOp::lt: return of(c < 0);
    case CompareOp::le: return of(c <= 0);
    case CompareOp::gt: return of(c > 0);
    case CompareOp::ge: return of(c >= 0);
    default: return Truth::unknown;
  }
}

class Evaluator {
 public:
  Evaluator(const Ast& ast, const CloudEvent& e, const json::value* data)
      : ast_(ast), event_(e), data_(data) {}

  Truth truth(std::uint32_t i) const {
    const Node& n = ast_.nodes[i];
    switch (n.kind) {
      case NodeKind::and_: return all(n);
      case NodeKind::or_: return any(n);
      case NodeKind::not_: {
        Truth t = truth(n.operands[0]);
        return t == Truth::unknown ? t : of(t == Truth::no);
      }
      case NodeKind::compare: return compare(value(n.operands[0]), n.op, value(n.operands[1]));
      case NodeKind::call: return call(n);
      default: {
        Value v = value(i);  // a boolean literal or a $body path used as a condition
        return v.kind == Kind::boolean ? of(v.flag) : Truth::unknown;
      }
    }
  }

 private:
  Truth all(const Node& n) const {
    Truth out = Truth::yes;
    for (auto op : n.operands) {
      Truth t = truth(op);
      if (t == Truth::no) return t;
      if (t == Truth::unknown) out = t;
    }
    return out;
  }

  Truth any(const Node& n) const {
    Truth out = Truth::no;
    for (auto op : n.operands) {
      Truth t = truth(op);
      if (t == Truth::yes) return t;
      if (t == Truth::unknown) out = t;
    }
    return out;
  }

  Value value(std::uint32_t i) const {
    const Node& n = ast_.nodes[i];
    Value v;
    switch (n.kind) {
      case NodeKind::boolean:
        v.kind = Kind::boolean;
        v.flag = n.flag;
        return v;
      case NodeKind::null: v.kind = Kind::null; return v;
      case NodeKind::number:
        v.kind = Kind::number;
        v.integral = n.integral;
        v.integer = n.integer;
        v.number = n.number;
        return v;
      case NodeKind::string:
        v.kind = Kind::string;
        v.text = n.text;
        return v;
      case NodeKind::attribute: {
        const std::string& s = attribute_value(event_, n.attribute);
        if (!s.empty()) {
          v.kind = Kind::string;
          v.text = s;
        }
        return v;
      }
      case NodeKind::body_path: return path(n);
      default: return truth_value(truth(i));
    }
  }

  Value path(const Node& n) const {
    const json::value* at = data_;
    for (const auto& segment : n.path) {
      if (at == nullptr || !at->is_object()) return {};
      at = at->get_object().if_contains(segment);
    }
    return at == nullptr ? Value{} : from_json(*at);
  }

  Truth call(const Node& n) const {
    Value x = value(n.operands[0]);
    switch (n.function) {
      case Function::is_defined: return of(x.kind != Kind::undefined);
      case Function::is_null: return of(x.kind == Kind::null);
      case Function::is_string: return of(x.kind == Kind::string);
      case Function::is_number: return of(x.kind == Kind::number);
      case Function::is_bool: return of(x.kind == Kind::boolean);
      case Function::is_object: return of(x.kind == Kind::object);
      default: break;
    }
    Value y = value(n.operands[1]);
    if (x.kind != Kind::string || y.kind != Kind::string) return Truth::unknown;
    switch (n.function) {
      case Function::starts_with: return of(x.text.starts_with(y.text));
      case Function::ends_with: return of(x.text.ends_with(y.text));
      case Function::contains: return of(x.text.find(y.text) != std::string_view::npos);
      default: return Truth::unknown;
    }
  }

  const Ast& ast_;
  const CloudEvent& event_;
  const json::value* data_;
};

}  // namespace

Truth evaluate(const Ast& ast, const CloudEvent& event, const json::value* data) {
  if (ast.nodes.empty()) return Truth::unknown;
  return Evaluator(ast, event, data).truth(ast.root);
}

}  // namespace castor::rules::filter
