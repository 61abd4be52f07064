// FROM DIGITALTWINS / FROM RELATIONSHIPS with an optional alias, and JOIN ... RELATED chains.
#include <fmt/format.h>

#include <algorithm>

#include "common/strings.hpp"
#include "query/parser_impl.hpp"

namespace castor::query {
CollectionId Parser::find_collection(std::string_view name) const {
  for (std::size_t i = 0; i < q_.collections.size(); ++i) {
    const Collection& c = q_.collections[i];
    if (c.name.size != 0 && q_.str(c.name) == name) return static_cast<CollectionId>(i);
  }
  return kNoCollection;
}

std::string Parser::spelling_hint(std::string_view name) const {
  for (const Collection& c : q_.collections) {
    if (c.name.size != 0 && equals_ignoring_case(q_.str(c.name), name)) {
      return fmt::format(" (names are case-sensitive: did you mean '{}'?)", q_.str(c.name));
    }
  }
  return {};
}

bool Parser::declare(TextRef name, CollectionKind kind, std::uint32_t offset, CollectionId& id) {
  if (name.size != 0 && find_collection(q_.str(name)) != kNoCollection) {
    return fail(offset, fmt::format("The name '{}' at position {} is already used for another "
                                    "collection of this query; choose a different name.",
                                    q_.str(name), position(offset)));
  }
  id = static_cast<CollectionId>(q_.collections.size());
  q_.collections.push_back(Collection{name, kind, offset});
  return true;
}

bool Parser::parse_from() {
  if (!at(Keyword::from)) {
    if (at(Keyword::digitaltwins) || at(Keyword::relationships)) {
      return fail(peek().offset,
                  fmt::format("Expected FROM before {} at position {}; write FROM {}.",
                              describe(peek()), position(peek().offset), lexer_.text_of(peek())));
    }
    return fail_expected(q_.select.kind == SelectKind::projections ? "',' or FROM" : "FROM");
  }
  take();
  if (at(TokenKind::lparen)) {
    return fail(peek().offset, fmt::format("Subqueries are not supported (position {}); FROM takes "
                                           "DIGITALTWINS or RELATIONSHIPS.",
                                           position(peek().offset)));
  }
  if (!at(Keyword::digitaltwins) && !at(Keyword::relationships)) {
    return fail_expected("DIGITALTWINS or RELATIONSHIPS after FROM");
  }
  const bool twins = take().keyword == Keyword::digitaltwins;
  q_.source = twins ? Source::digital_twins : Source::relationships;
  Collection from{{}, twins ? CollectionKind::twin : CollectionKind::relationship, peek().offset};
  if (can_start_name(peek(), NameUse::alias) &&
      !take_name(NameUse::alias, "a collection name", from.name)) {
    return false;
  }
  if (at(Keyword::as)) {
    return fail(peek().offset,
                fmt::format("Write the collection name right after {} without AS "
                            "(position {}), as in FROM DIGITALTWINS T.",
                            twins ? "DIGITALTWINS" : "RELATIONSHIPS", position(peek().offset)));
  }
  if (!twins && (at(Keyword::join) || at(Keyword::match))) {
    return fail(peek().offset, fmt::format("FROM RELATIONSHIPS cannot be combined with {} "
                                           "(position {}); traverse FROM DIGITALTWINS instead.",
                                           lexer_.text_of(peek()), position(peek().offset)));
  }
  if (at(Keyword::match)) {
    if (from.name.size != 0) {
      return fail(from.offset, fmt::format("A MATCH query names its twins inside the pattern; "
                                           "remove the name '{}' after DIGITALTWINS (position {}).",
                                           q_.str(from.name), position(from.offset)));
    }
    return parse_match();
  }
  q_.collections.push_back(from);
  while (at(Keyword::join)) {
    if (!parse_join()) return false;
  }
  if (at(Keyword::match) && q_.traversal == Traversal::join) {
    return fail(peek().offset, fmt::format("MATCH at position {} cannot be combined with JOIN; "
                                           "write the whole traversal as one MATCH pattern.",
                                           position(peek().offset)));
  }
  return true;
}

bool Parser::find_join_source(TextRef name, std::uint32_t offset, CollectionId& id) {
  id = find_collection(q_.str(name));
  if (id == kNoCollection) {
    return fail(offset, fmt::format("'{}' at position {} is not a collection named before this "
                                    "JOIN{}; RELATED follows relationships from the FROM "
                                    "collection or an earlier JOIN's twins.",
                                    q_.str(name), position(offset), spelling_hint(q_.str(name))));
  }
  if (q_.collections[id].kind != CollectionKind::twin) {
    return fail(offset, fmt::format("'{}' at position {} names relationships; RELATED follows "
                                    "relationships from twins, so name a twin collection.",
                                    q_.str(name), position(offset)));
  }
  return true;
}

bool Parser::parse_join() {
  const Token join = take();
  q_.traversal = Traversal::join;
  if (++joins_ > limits_.max_joins) {
    return fail(join.offset,
                fmt::format("A query can have at most {} JOINs; the one at position {} "
                            "is one too many. For deeper traversals use MATCH with a "
                            "hop count.",
                            limits_.max_joins, position(join.offset)));
  }
  Edge edge;
  edge.offset = join.offset;
  Collection target{{}, CollectionKind::twin, peek().offset};
  if (!take_name(NameUse::alias, "a name for the joined twins", target.name)) return false;
  if (!accept(Keyword::related)) {
    return fail_expected("RELATED (write JOIN target RELATED source.relationshipName)");
  }
  const std::uint32_t source_offset = peek().offset;
  TextRef source_name;
  if (!take_name(NameUse::alias, "the collection to follow relationships from", source_name) ||
      !find_join_source(source_name, source_offset, edge.source)) {
    return false;
  }
  if (!accept(TokenKind::dot)) {
    return fail_expected(
        fmt::format("'.' and a relationship name after RELATED {}", q_.str(source_name)));
  }
  TextRef relationship;
  if (!take_name(NameUse::property, "a relationship name", relationship)) return false;
  if (at(TokenKind::dot)) {
    return fail(peek().offset, fmt::format("RELATED takes one relationship name, as in RELATED "
                                           "T.contains; remove the path after it (position {}).",
                                           position(peek().offset)));
  }
  edge.names_first = static_cast<std::uint32_t>(q_.names.size());
  edge.names_count = 1;
  q_.names.push_back(relationship);
  if (!declare(target.name, CollectionKind::twin, target.offset, edge.target)) return false;
  if (can_start_name(peek(), NameUse::alias)) {
    const std::uint32_t offset = peek().offset;
    TextRef alias;
    if (!take_name(NameUse::alias, "a relationship name", alias) ||
        !declare(alias, CollectionKind::relationship, offset, edge.relationship)) {
      return false;
    }
  }
  q_.edges.push_back(edge);
  return true;
}

}  // namespace castor::query
