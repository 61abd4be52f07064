#include "query/ast.hpp"

#include <algorithm>

namespace castor::query {

std::span<const ExprId> Query::children(const Expr& e) const {
  if (e.kind == ExprKind::path || e.count == 0) return {};
  return std::span<const ExprId>(operands).subspan(e.first, e.count);
}

std::span<const TextRef> Query::path_names(const Expr& e) const {
  if (e.kind != ExprKind::path) return {};
  return std::span<const TextRef>(names).subspan(e.first, e.count);
}

std::span<const TextRef> Query::property_path(const Expr& e) const {
  auto all = path_names(e);
  return e.qualified ? all.subspan(1) : all;
}

std::span<const TextRef> Query::relationship_names(const Edge& e) const {
  return std::span<const TextRef>(names).subspan(e.names_first, e.names_count);
}

std::string_view Query::collection_name(CollectionId id) const {
  return id < collections.size() ? str(collections[id].name) : std::string_view();
}

CollectionId Query::from_collection() const {
  return (traversal == Traversal::match || collections.empty()) ? kNoCollection : 0;
}

std::string_view Query::output_name(const Projection& p) const {
  if (p.alias.size != 0) return str(p.alias);
  auto path = path_names(expr(p.expr));
  return path.empty() ? std::string_view() : str(path.back());
}

TextRef Query::add_text(std::string_view s) {
  TextRef r{static_cast<std::uint32_t>(text.size()), static_cast<std::uint32_t>(s.size())};
  text.append(s);
  return r;
}

ExprId Query::add_expr(const Expr& e) {
  exprs.push_back(e);
  return static_cast<ExprId>(exprs.size() - 1);
}

namespace {

bool same_names(const Query& a, std::span<const TextRef> x, const Query& b,
                std::span<const TextRef> y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                    [&](TextRef p, TextRef q) { return a.str(p) == b.str(q); });
}

bool same_collection(const Query& a, const Collection& x, const Query& b, const Collection& y) {
  return x.kind == y.kind && a.str(x.name) == b.str(y.name);
}

bool same_edge(const Query& a, const Edge& x, const Query& b, const Edge& y) {
  return x.source == y.source && x.target == y.target && x.relationship == y.relationship &&
         x.direction == y.direction && x.min_hops == y.min_hops && x.max_hops == y.max_hops &&
         same_names(a, a.relationship_names(x), b, b.relationship_names(y));
}

bool same_literal(const Query& a, const Expr& x, const Query& b, const Expr& y) {
  switch (x.kind) {
    case ExprKind::bool_literal: return x.boolean == y.boolean;
    case ExprKind::int_literal: return x.integer == y.integer;
    case ExprKind::double_literal: return x.number == y.number;
    case ExprKind::string_literal: return a.str(x.text) == b.str(y.text);
    default: return true;
  }
}

bool same_select(const Query& a, const Query& b) {
  const Select& x = a.select;
  const Select& y = b.select;
  if (x.kind != y.kind || x.top != y.top || x.projections.size() != y.projections.size()) {
    return false;
  }
  for (std::size_t i = 0; i < x.projections.size(); ++i) {
    const Projection& p = x.projections[i];
    const Projection& q = y.projections[i];
    if (a.str(p.alias) != b.str(q.alias) || !same_expr(a, p.expr, b, q.expr)) return false;
  }
  return true;
}

}  // namespace

bool same_expr(const Query& a, ExprId x, const Query& b, ExprId y) {
  if (x == kNoExpr || y == kNoExpr) return x == y;
  const Expr& e = a.expr(x);
  const Expr& f = b.expr(y);
  if (e.kind != f.kind || e.op != f.op || e.function != f.function || e.negated != f.negated ||
      e.exact != f.exact || e.qualified != f.qualified || e.collection != f.collection ||
      e.count != f.count || !same_literal(a, e, b, f)) {
    return false;
  }
  if (e.kind == ExprKind::path) return same_names(a, a.path_names(e), b, b.path_names(f));
  auto xs = a.children(e);
  auto ys = b.children(f);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!same_expr(a, xs[i], b, ys[i])) return false;
  }
  return true;
}

bool operator==(const Query& a, const Query& b) {
  if (a.source != b.source || a.traversal != b.traversal || a.match_nodes != b.match_nodes ||
      a.collections.size() != b.collections.size() || a.edges.size() != b.edges.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.collections.size(); ++i) {
    if (!same_collection(a, a.collections[i], b, b.collections[i])) return false;
  }
  for (std::size_t i = 0; i < a.edges.size(); ++i) {
    if (!same_edge(a, a.edges[i], b, b.edges[i])) return false;
  }
  return same_select(a, b) && same_expr(a, a.where, b, b.where);
}

}  // namespace castor::query
