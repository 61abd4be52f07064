// MATCH: one chain of twins and relationship conditions, -[var:name1|name2*hops]->, with the
// documented limits (a variable only on a single hop, at most max_match_hops in total).
#include <fmt/format.h>

#include "query/parser_impl.hpp"

namespace castor::query {

bool Parser::parse_match() {
  const Token match = take();
  q_.traversal = Traversal::match;
  CollectionId left = kNoCollection;
  if (!parse_node(left)) return false;
  q_.match_nodes.push_back(left);
  std::uint64_t hops = 0;
  while (at(TokenKind::minus) || at(TokenKind::lt)) {
    Edge edge;
    edge.source = left;
    if (!parse_arrow(edge) || !parse_node(edge.target)) return false;
    hops += edge.max_hops;
    q_.edges.push_back(edge);
    q_.match_nodes.push_back(edge.target);
    left = edge.target;
  }
  if (hops > limits_.max_match_hops) {
    return fail(match.offset, fmt::format("The MATCH pattern at position {} spans up to {} hops; "
                                          "a query may traverse at most {}. Lower the hop counts.",
                                          position(match.offset), hops, limits_.max_match_hops));
  }
  const Token& next = peek();
  if (next.kind == TokenKind::word && next.keyword == Keyword::join) {
    return fail(next.offset, fmt::format("JOIN at position {} cannot be combined with MATCH; write "
                                         "the whole traversal as one MATCH pattern.",
                                         position(next.offset)));
  }
  if (next.kind == TokenKind::comma ||
      (next.kind == TokenKind::word && next.keyword == Keyword::match)) {
    return fail(next.offset, fmt::format("A query has one MATCH pattern; chain its conditions, as "
                                         "in (a)-[]->(b)-[]->(c), instead of adding {} at "
                                         "position {}.",
                                         describe(next), position(next.offset)));
  }
  return true;
}

bool Parser::parse_node(CollectionId& id) {
  const Token open = peek();
  TextRef name;
  if (accept(TokenKind::lparen)) {
    if (!at(TokenKind::rparen) && !take_name(NameUse::alias, "a twin name", name)) return false;
    if (!accept(TokenKind::rparen))
      return fail_expected("')' to close the twin of the MATCH pattern");
  } else if (can_start_name(open, NameUse::alias)) {
    // The reference's limitations section writes nodes without parentheses: A-[contains]->B.
    take_name(NameUse::alias, "a twin name", name);
  } else {
    return fail_expected("a twin in parentheses, such as (Room) or ()");
  }
  const CollectionId existing = name.size != 0 ? find_collection(q_.str(name)) : kNoCollection;
  if (existing == kNoCollection) return declare(name, CollectionKind::twin, open.offset, id);
  if (q_.collections[existing].kind != CollectionKind::twin) {
    return fail(open.offset, fmt::format("'{}' at position {} already names a relationship in this "
                                         "MATCH; give the twin another name.",
                                         q_.str(name), position(open.offset)));
  }
  id = existing;  // the same name twice means the same twin, as in a cycle
  return true;
}

bool Parser::parse_arrow(Edge& edge) {
  edge.offset = peek().offset;
  const bool points_left = accept(TokenKind::lt);
  if (!accept(TokenKind::minus)) return fail_expected("'-' after '<' (write <-[...]-)");
  if (!accept(TokenKind::lbracket)) {
    return fail_expected(
        "'[' (write relationship conditions in brackets, as in -[]-> or "
        "-[:contains]->)");
  }
  if (!parse_condition(edge)) return false;
  if (!accept(TokenKind::rbracket)) return fail_expected("']' to close the relationship condition");
  if (!accept(TokenKind::minus)) return fail_expected("'-' after ']' (write ]- or ]->)");
  const Token right = peek();
  const bool points_right = accept(TokenKind::gt);
  if (points_left && points_right) {
    return fail(right.offset, fmt::format("The arrow ending at position {} points both ways; write "
                                          "<-[]- or -[]->, and chain two conditions for both "
                                          "directions.",
                                          position(right.offset)));
  }
  edge.direction = points_left    ? Direction::backward
                   : points_right ? Direction::forward
                                  : Direction::any;
  return true;
}

bool Parser::parse_condition(Edge& edge) {
  const Token variable = peek();
  // [name] assigns a variable; [name1|name2] (the reference writes it without ':') lists names.
  if (can_start_name(variable, NameUse::alias) && peek(1).kind != TokenKind::pipe) {
    TextRef name;
    take_name(NameUse::alias, "a relationship variable", name);
    if (!declare(name, CollectionKind::relationship, variable.offset, edge.relationship))
      return false;
  }
  const bool listed = can_start_name(peek(), NameUse::property) && peek(1).kind == TokenKind::pipe;
  if (accept(TokenKind::colon) || listed) {
    edge.names_first = static_cast<std::uint32_t>(q_.names.size());
    do {
      TextRef name;
      if (!take_name(NameUse::property, "a relationship name", name)) return false;
      q_.names.push_back(name);
    } while (accept(TokenKind::pipe));
    edge.names_count = static_cast<std::uint32_t>(q_.names.size()) - edge.names_first;
  }
  const Token star = peek();
  if (accept(TokenKind::star) && !parse_hops(edge, star.offset)) return false;
  if (edge.relationship != kNoCollection && edge.max_hops > 1) {
    const std::string_view name = lexer_.text_of(variable);
    return fail(star.offset, fmt::format("A relationship variable ('{}' at position {}) works only "
                                         "on a single hop. To follow relationships named {}, write "
                                         "[:{}*...]; otherwise remove the hop count.",
                                         name, position(variable.offset), name, name));
  }
  return true;
}

bool Parser::parse_hops(Edge& edge, std::uint32_t star_offset) {
  const std::uint32_t limit = limits_.max_match_hops;
  const auto bad = [&](const std::string& why) {
    return fail(star_offset, fmt::format("{} (position {}). Write *3 for exactly 3 hops, *1..3 for "
                                         "2 or 3 (the start is exclusive), or *..3 for up to 3; at "
                                         "most {}.",
                                         why, position(star_offset), limit));
  };
  const Token from = peek();
  const bool has_from = accept(TokenKind::integer);
  if (!accept(TokenKind::dotdot)) {
    if (!has_from) return bad("'*' must be followed by a hop count");
    if (from.integer == 0 || from.integer > limit) return bad("The hop count is out of range");
    edge.min_hops = edge.max_hops = static_cast<std::uint32_t>(from.integer);
    return true;
  }
  const Token to = peek();
  if (!accept(TokenKind::integer)) return bad("A hop range needs an ending limit");
  if (to.integer == 0 || to.integer > limit) return bad("The ending hop limit is out of range");
  if (has_from && from.integer >= to.integer) {
    return bad("This hop range is empty: its start is excluded and its end included");
  }
  edge.min_hops = has_from ? static_cast<std::uint32_t>(from.integer) + 1 : 1;
  edge.max_hops = static_cast<std::uint32_t>(to.integer);
  return true;
}

}  // namespace castor::query
