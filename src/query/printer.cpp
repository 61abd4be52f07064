#include "query/printer.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "query/keywords.hpp"

namespace castor::query {
namespace {

enum class NameUse : std::uint8_t { alias, property };

void append_name(std::string& out, std::string_view name, NameUse use) {
  const Keyword k = find_keyword(name);
  const bool plain = use == NameUse::alias
                         ? is_plain_name(name) && !ends_alias(k)
                         : (is_plain_name(name) && !is_reserved(k)) || is_system_name(name);
  if (plain) {
    out += name;
  } else {
    out += "[[";
    out += name;
    out += "]]";
  }
}

void append_string(std::string& out, std::string_view s) {
  out += '\'';
  for (char c : s) {
    switch (c) {
      case '\'': out += "\\'"; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  out += '\'';
}

void append_double(std::string& out, double d) {
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), d);
  const std::string_view s(buf.data(), static_cast<std::size_t>(r.ptr - buf.data()));
  out += s;
  // Keep it a double when read back: 2.0 must not come back as the integer 2.
  if (s.find_first_of(".e") == std::string_view::npos) out += ".0";
}

std::string_view comparison_text(CompareOp op) {
  switch (op) {
    case CompareOp::eq: return " = ";
    case CompareOp::ne: return " != ";
    case CompareOp::lt: return " < ";
    case CompareOp::le: return " <= ";
    case CompareOp::gt: return " > ";
    case CompareOp::ge: return " >= ";
  }
  return " ? ";
}

// Binding strength: a child weaker than its parent needs parentheses.
int strength(ExprKind k) {
  switch (k) {
    case ExprKind::logical_or: return 1;
    case ExprKind::logical_and: return 2;
    case ExprKind::logical_not: return 3;
    default: return 4;
  }
}

class Printer {
 public:
  Printer(const Query& q, std::string& out) : q_(q), out_(out) {}

  void expr(ExprId id) {
    const Expr& e = q_.expr(id);
    const auto kids = q_.children(e);
    switch (e.kind) {
      case ExprKind::null_literal: out_ += "null"; break;
      case ExprKind::bool_literal: out_ += e.boolean ? "true" : "false"; break;
      case ExprKind::int_literal: out_ += fmt::format("{}", e.integer); break;
      case ExprKind::double_literal: append_double(out_, e.number); break;
      case ExprKind::string_literal: append_string(out_, q_.str(e.text)); break;
      case ExprKind::path: path(e); break;
      case ExprKind::call: call(e); break;
      case ExprKind::compare:
        expr(kids[0]);
        out_ += comparison_text(e.op);
        expr(kids[1]);
        break;
      case ExprKind::in_list: in_list(e); break;
      case ExprKind::logical_and: join(kids, " AND ", 3); break;
      case ExprKind::logical_or: join(kids, " OR ", 2); break;
      case ExprKind::logical_not:
        out_ += "NOT ";
        child(kids[0], 3);
        break;
    }
  }

  void query() {
    select();
    out_ += q_.source == Source::digital_twins ? " FROM DIGITALTWINS" : " FROM RELATIONSHIPS";
    if (q_.from_collection() != kNoCollection && q_.collections[0].name.size != 0) {
      out_ += ' ';
      append_name(out_, q_.str(q_.collections[0].name), NameUse::alias);
    }
    if (q_.traversal == Traversal::join) joins();
    if (q_.traversal == Traversal::match) match();
    if (q_.where != kNoExpr) {
      out_ += " WHERE ";
      expr(q_.where);
    }
  }

 private:
  void child(ExprId id, int needed) {
    const bool wrap = strength(q_.expr(id).kind) < needed;
    if (wrap) out_ += '(';
    expr(id);
    if (wrap) out_ += ')';
  }

  void join(std::span<const ExprId> kids, std::string_view op, int needed) {
    for (std::size_t i = 0; i < kids.size(); ++i) {
      if (i > 0) out_ += op;
      child(kids[i], needed);
    }
  }

  void path(const Expr& e) {
    const auto names = q_.path_names(e);
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i > 0) out_ += '.';
      // A qualified path starts with a collection name, which is printed like any alias.
      const bool alias = i == 0 && e.qualified;
      append_name(out_, q_.str(names[i]), alias ? NameUse::alias : NameUse::property);
    }
  }

  void call(const Expr& e) {
    out_ += function_name(e.function);
    out_ += '(';
    const auto kids = q_.children(e);
    for (std::size_t i = 0; i < kids.size(); ++i) {
      if (i > 0) out_ += ", ";
      expr(kids[i]);
    }
    if (e.exact) out_ += ", exact";
    out_ += ')';
  }

  void in_list(const Expr& e) {
    const auto kids = q_.children(e);
    expr(kids[0]);
    out_ += e.negated ? " NIN [" : " IN [";
    for (std::size_t i = 1; i < kids.size(); ++i) {
      if (i > 1) out_ += ", ";
      expr(kids[i]);
    }
    out_ += ']';
  }

  void select() {
    const Select& s = q_.select;
    out_ += "SELECT ";
    if (s.top != 0) out_ += fmt::format("TOP({})", s.top);
    switch (s.kind) {
      case SelectKind::all:
        if (s.top == 0) out_ += '*';  // the reference writes SELECT TOP(5) FROM ...
        return;
      case SelectKind::count: out_ += "COUNT()"; return;
      case SelectKind::projections: break;
    }
    if (s.top != 0) out_ += ' ';
    for (std::size_t i = 0; i < s.projections.size(); ++i) {
      if (i > 0) out_ += ", ";
      expr(s.projections[i].expr);
      if (s.projections[i].alias.size != 0) {
        out_ += " AS ";
        append_name(out_, q_.str(s.projections[i].alias), NameUse::alias);
      }
    }
  }

  void collection(CollectionId id) { append_name(out_, q_.collection_name(id), NameUse::alias); }

  void joins() {
    for (const Edge& edge : q_.edges) {
      out_ += " JOIN ";
      collection(edge.target);
      out_ += " RELATED ";
      collection(edge.source);
      out_ += '.';
      append_name(out_, q_.str(q_.relationship_names(edge)[0]), NameUse::property);
      if (edge.relationship != kNoCollection) {
        out_ += ' ';
        collection(edge.relationship);
      }
    }
  }

  void node(CollectionId id) {
    out_ += '(';
    if (!q_.collection_name(id).empty()) collection(id);
    out_ += ')';
  }

  void hops(const Edge& edge) {
    if (edge.min_hops == edge.max_hops) {
      if (edge.max_hops != 1) out_ += fmt::format("*{}", edge.max_hops);
    } else if (edge.min_hops == 1) {
      out_ += fmt::format("*..{}", edge.max_hops);
    } else {
      out_ += fmt::format("*{}..{}", edge.min_hops - 1, edge.max_hops);  // the start is exclusive
    }
  }

  void arrow(const Edge& edge) {
    out_ += edge.direction == Direction::backward ? "<-[" : "-[";
    if (edge.relationship != kNoCollection) collection(edge.relationship);
    const auto names = q_.relationship_names(edge);
    for (std::size_t i = 0; i < names.size(); ++i) {
      out_ += i == 0 ? ':' : '|';
      append_name(out_, q_.str(names[i]), NameUse::property);
    }
    hops(edge);
    out_ += edge.direction == Direction::forward ? "]->" : "]-";
  }

  void match() {
    out_ += " MATCH ";
    node(q_.match_nodes[0]);
    for (std::size_t i = 0; i < q_.edges.size(); ++i) {
      arrow(q_.edges[i]);
      node(q_.match_nodes[i + 1]);
    }
  }

  const Query& q_;
  std::string& out_;
};

}  // namespace

std::string print(const Query& q) {
  std::string out;
  out.reserve(64 + q.text.size());
  Printer(q, out).query();
  return out;
}

void print_expr(const Query& q, ExprId e, std::string& out) {
  Printer(q, out).expr(e);
}

}  // namespace castor::query
