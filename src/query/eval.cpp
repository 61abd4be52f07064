#include "query/eval.hpp"

#include <algorithm>

#include "model/dtmi.hpp"

namespace castor::query {
namespace {

Datum literal(const Query& q, const Expr& e) {
  switch (e.kind) {
    case ExprKind::null_literal: return Datum::null();
    case ExprKind::bool_literal: return Datum::of_bool(e.boolean);
    case ExprKind::int_literal: return Datum::of_int(e.integer);
    case ExprKind::double_literal: return Datum::of_real(e.number);
    case ExprKind::string_literal: return Datum::of_text(q.str(e.text));
    default: return Datum::undefined();
  }
}

Truth negate(Truth t) {
  switch (t) {
    case Truth::yes: return Truth::no;
    case Truth::no: return Truth::yes;
    case Truth::unknown: return Truth::unknown;
  }
  return Truth::unknown;
}

Truth eval_all(const Plan& plan, std::span<const ExprId> kids, const Resolver& r, Scratch& s) {
  Truth result = Truth::yes;
  for (ExprId k : kids) {
    const Truth t = eval_condition(plan, k, r, s);
    if (t == Truth::no) return Truth::no;
    if (t == Truth::unknown) result = Truth::unknown;
  }
  return result;
}

Truth eval_any(const Plan& plan, std::span<const ExprId> kids, const Resolver& r, Scratch& s) {
  Truth result = Truth::no;
  for (ExprId k : kids) {
    const Truth t = eval_condition(plan, k, r, s);
    if (t == Truth::yes) return Truth::yes;
    if (t == Truth::unknown) result = Truth::unknown;
  }
  return result;
}

Truth eval_in(const Plan& plan, const Expr& e, const Resolver& r, Scratch& s) {
  const Query& q = plan.query;
  const auto kids = q.children(e);
  const Datum x = eval_operand(plan, kids[0], r, s);
  if (!x.defined()) return Truth::unknown;
  bool found = false;
  for (std::size_t i = 1; i < kids.size() && !found; ++i) {
    found = same_value(x, literal(q, q.expr(kids[i])));
  }
  return truth(found != e.negated);
}

Truth string_test(Function f, const Datum& a, const Datum& b) {
  if (a.kind != Datum::Kind::string || b.kind != Datum::Kind::string) return Truth::unknown;
  switch (f) {
    case Function::startswith: return truth(a.text.starts_with(b.text));
    case Function::endswith: return truth(a.text.ends_with(b.text));
    default: return truth(a.text.find(b.text) != std::string_view::npos);
  }
}

// Top-level elements only: nested arrays are not searched (reference-query-functions.md).
Truth array_contains(const Datum& array, const Datum& wanted) {
  if (array.kind != Datum::Kind::array || !wanted.defined()) return Truth::unknown;
  for (const json::value& element : array.doc->get_array()) {
    if (same_value(Datum::of_json(element), wanted)) return Truth::yes;
  }
  return Truth::no;
}

Truth eval_call(const Plan& plan, const Expr& e, const Resolver& r, Scratch& s) {
  const Query& q = plan.query;
  const auto args = q.children(e);
  if (e.function == Function::is_of_model) {
    const model::CompiledInterface* m = r.model_of(e.collection);
    if (m == nullptr) return Truth::unknown;
    return truth(is_of_model(*m, q.str(q.expr(args.back()).text), e.exact));
  }
  const Datum a = eval_operand(plan, args[0], r, s);
  switch (e.function) {
    case Function::is_defined: return truth(a.defined());
    case Function::is_null: return truth(a.kind == Datum::Kind::null);
    case Function::is_bool: return truth(a.kind == Datum::Kind::boolean);
    case Function::is_number: return truth(a.is_number());
    case Function::is_string: return truth(a.kind == Datum::Kind::string);
    case Function::is_primitive: return truth(a.is_primitive());
    case Function::is_object: return truth(a.kind == Datum::Kind::object);
    case Function::array_contains: return array_contains(a, eval_operand(plan, args[1], r, s));
    case Function::startswith:
    case Function::endswith:
    case Function::contains: return string_test(e.function, a, eval_operand(plan, args[1], r, s));
    default: return Truth::unknown;
  }
}

bool same_or_newer(std::string_view candidate, const model::DtmiParts& wanted,
                   std::string_view wanted_text) {
  if (candidate == wanted_text) return true;
  if (!wanted.valid) return false;
  const model::DtmiParts c = model::parse_dtmi(candidate, 3);
  if (!c.valid || c.path != wanted.path) return false;
  if (!wanted.has_version) return true;
  return c.has_version &&
         (c.major > wanted.major || (c.major == wanted.major && c.minor >= wanted.minor));
}

}  // namespace

bool is_of_model(const model::CompiledInterface& m, std::string_view wanted, bool exact) {
  if (exact) return m.id == wanted;
  const model::DtmiParts w = model::parse_dtmi(wanted, 3);
  if (same_or_newer(m.id, w, wanted)) return true;
  return std::any_of(m.ancestors.begin(), m.ancestors.end(),
                     [&](const std::string& a) { return same_or_newer(a, w, wanted); });
}

Datum eval_operand(const Plan& plan, ExprId id, const Resolver& r, Scratch& s) {
  const Expr& e = plan.query.expr(id);
  switch (e.kind) {
    case ExprKind::null_literal:
    case ExprKind::bool_literal:
    case ExprKind::int_literal:
    case ExprKind::double_literal:
    case ExprKind::string_literal: return literal(plan.query, e);
    case ExprKind::path: return plan.paths[id].slot == kNoSlot ? Datum::undefined() : r.read(id, s);
    default: break;
  }
  const Truth t = eval_condition(plan, id, r, s);
  return t == Truth::unknown ? Datum::undefined() : Datum::of_bool(t == Truth::yes);
}

Truth eval_condition(const Plan& plan, ExprId id, const Resolver& r, Scratch& s) {
  const Query& q = plan.query;
  const Expr& e = q.expr(id);
  switch (e.kind) {
    case ExprKind::logical_and: return eval_all(plan, q.children(e), r, s);
    case ExprKind::logical_or: return eval_any(plan, q.children(e), r, s);
    case ExprKind::logical_not: return negate(eval_condition(plan, q.children(e)[0], r, s));
    case ExprKind::compare: {
      const auto kids = q.children(e);
      return compare(eval_operand(plan, kids[0], r, s), eval_operand(plan, kids[1], r, s), e.op);
    }
    case ExprKind::in_list: return eval_in(plan, e, r, s);
    case ExprKind::call: return eval_call(plan, e, r, s);
    default: return truth_of(eval_operand(plan, id, r, s));
  }
}

bool all_true(const Plan& plan, const std::vector<ExprId>& conditions, const Resolver& r,
              Scratch& s, ExprId known) {
  for (ExprId c : conditions) {
    if (c != known && eval_condition(plan, c, r, s) != Truth::yes) return false;
  }
  return true;
}

}  // namespace castor::query
