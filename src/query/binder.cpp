#include "query/binder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace castor::query {
namespace {

class Binder {
 public:
  Binder(std::string_view text, Query& q, QueryError& error) : text_(text), q_(q), error_(error) {}

  bool run() {
    if (q_.collections.size() == 1) implicit_ = 0;
    for (std::size_t i = 0; i < q_.exprs.size(); ++i) {
      Expr& e = q_.exprs[i];
      if (e.kind == ExprKind::path) resolve(e);
      // Arguments precede their call in exprs, so they are resolved by the time it is checked.
      if (e.kind == ExprKind::call && e.function == Function::is_of_model && !bind_is_of_model(e)) {
        return false;
      }
      if (e.kind == ExprKind::call && e.function == Function::array_contains &&
          !check_array_contains(e)) {
        return false;
      }
    }
    return check_select();
  }

 private:
  bool fail(std::uint32_t offset, std::string message) {
    error_ = make_error(text_, offset, std::move(message));
    return false;
  }
  std::uint32_t position(std::uint32_t offset) const { return locate(text_, offset).position; }

  CollectionId find(std::string_view name) const {
    for (std::size_t i = 0; i < q_.collections.size(); ++i) {
      const Collection& c = q_.collections[i];
      if (c.name.size != 0 && q_.str(c.name) == name) return static_cast<CollectionId>(i);
    }
    return kNoCollection;
  }

  // A path starts at the collection its first name names; otherwise, when the query has exactly
  // one collection, at that one (SELECT name FROM DIGITALTWINS). Else it stays unresolved: like
  // a misspelt property, it then matches nothing rather than failing.
  void resolve(Expr& path) const {
    const CollectionId named = find(q_.str(q_.names[path.first]));
    path.qualified = named != kNoCollection;
    path.collection = path.qualified ? named : implicit_;
  }

  std::string collection_list(CollectionKind kind) const {
    std::string out;
    for (const Collection& c : q_.collections) {
      if (c.kind != kind || c.name.size == 0) continue;
      if (!out.empty()) out += ", ";
      out += q_.str(c.name);
    }
    return out;
  }

  std::size_t count(CollectionKind kind) const {
    return static_cast<std::size_t>(
        std::count_if(q_.collections.begin(), q_.collections.end(),
                      [&](const Collection& c) { return c.kind == kind; }));
  }

  bool bind_is_of_model(Expr& call) {
    if (q_.source == Source::relationships) {
      return fail(call.offset, fmt::format("IS_OF_MODEL at position {} tests twins, but FROM "
                                           "RELATIONSHIPS has none; query FROM DIGITALTWINS.",
                                           position(call.offset)));
    }
    if (call.count == 1) {
      if (count(CollectionKind::twin) == 1) {
        call.collection =
            q_.from_collection() != kNoCollection ? q_.from_collection() : q_.match_nodes.front();
        return true;
      }
      return fail(call.offset,
                  fmt::format("IS_OF_MODEL at position {} must name the twins it "
                              "tests when the query has several twin collections "
                              "({}), as in IS_OF_MODEL(T, 'dtmi:example:Room;1').",
                              position(call.offset), collection_list(CollectionKind::twin)));
    }
    const Expr& arg = q_.expr(q_.children(call)[0]);
    const std::string_view name = q_.str(q_.names[arg.first]);
    if (!arg.qualified || q_.collections[arg.collection].kind != CollectionKind::twin) {
      return fail(arg.offset, fmt::format("'{}' at position {} is not a twin collection of this "
                                          "query; IS_OF_MODEL can test {}.",
                                          name, position(arg.offset),
                                          collection_list(CollectionKind::twin).empty()
                                              ? std::string("the twins without naming them")
                                              : collection_list(CollectionKind::twin)));
    }
    call.collection = arg.collection;
    return true;
  }

  // True when `path` reads a property of a relationship: through a relationship collection, or
  // as Twin.relationshipName.property for a relationship the query JOINs from Twin.
  bool reads_relationship(const Expr& path) const {
    if (path.collection == kNoCollection) return false;
    if (q_.collections[path.collection].kind == CollectionKind::relationship) return true;
    const auto props = q_.property_path(path);
    if (!path.qualified || props.size() < 2) return false;
    return std::any_of(q_.edges.begin(), q_.edges.end(), [&](const Edge& edge) {
      const auto names = q_.relationship_names(edge);
      return edge.source == path.collection &&
             std::any_of(names.begin(), names.end(),
                         [&](TextRef n) { return q_.str(n) == q_.str(props[0]); });
    });
  }

  bool check_array_contains(const Expr& call) {
    const Expr& array = q_.expr(q_.children(call)[0]);
    if (!reads_relationship(array)) return true;
    return fail(array.offset, fmt::format("ARRAY_CONTAINS at position {} searches a relationship "
                                          "property, which is not supported; it works on twin "
                                          "properties only.",
                                          position(array.offset)));
  }

  bool check_select() {
    const Select& s = q_.select;
    if (s.kind == SelectKind::all && q_.collections.size() > 1) {
      return fail(s.offset, fmt::format("SELECT * (position {}) returns a single collection, but "
                                        "this query has {}; name what to return, as in SELECT {}.",
                                        position(s.offset), q_.collections.size(),
                                        collection_list(CollectionKind::twin)));
    }
    const auto [first, second] = duplicate_column();
    if (second == 0) return true;
    const std::uint32_t a = q_.expr(s.projections[first].expr).offset;
    const std::uint32_t b = q_.expr(s.projections[second].expr).offset;
    return fail(b, fmt::format("Two columns are named '{}' (positions {} and {}); give one a "
                               "different name with AS.",
                               q_.output_name(s.projections[second]), position(a), position(b)));
  }

  // The first projection whose column name an earlier one already has, with that earlier one;
  // {0, 0} when all differ. Pairwise for the usual handful of columns, hashed beyond.
  std::pair<std::size_t, std::size_t> duplicate_column() const {
    const auto& p = q_.select.projections;
    constexpr std::size_t kPairwise = 32;
    if (p.size() <= kPairwise) {
      for (std::size_t j = 1; j < p.size(); ++j) {
        for (std::size_t i = 0; i < j; ++i) {
          if (q_.output_name(p[i]) == q_.output_name(p[j])) return {i, j};
        }
      }
      return {0, 0};
    }
    std::unordered_map<std::string_view, std::size_t> seen;
    seen.reserve(p.size());
    for (std::size_t j = 0; j < p.size(); ++j) {
      const auto [it, fresh] = seen.emplace(q_.output_name(p[j]), j);
      if (!fresh) return {it->second, j};
    }
    return {0, 0};
  }

  std::string_view text_;
  Query& q_;
  QueryError& error_;
  CollectionId implicit_ = kNoCollection;
};

}  // namespace

bool bind(std::string_view text, Query& query, QueryError& error) {
  return Binder(text, query, error).run();
}

}  // namespace castor::query
