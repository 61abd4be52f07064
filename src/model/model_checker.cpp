#include "model/model_checker.hpp"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "model/extensions.hpp"
#include "model/metamodel.hpp"
#include "model/vocabulary.hpp"

namespace castor::model {
namespace {

constexpr int kMaxExtendsTotal = 1024;

// Members along which a complex schema contains further schemas.
constexpr Prop kSchemaMembers[] = {Prop::elementSchema, Prop::schema, Prop::fields, Prop::mapKey,
                                   Prop::mapValue, Prop::enumValues};

bool counts_as_schema_edge(Prop p) { return p == Prop::elementSchema || p == Prop::schema; }

// DTDL v4 raised the core limits; the ONVIF limit extension raises them further.
int max_extends_depth(const Element& e, const ActiveContext& ctx) {
  if (ctx.onvif_limits) return 24;
  return e.version >= 4 ? 12 : 10;
}
int max_schema_depth(const Element& e, const ActiveContext& ctx) {
  if (ctx.onvif_limits) return 24;
  return e.version >= 4 ? 8 : 5;
}

// DTDL v4 permits recursive schemas: these edges may close a cycle.
bool recursion_allowed(const Element& from, Prop p) {
  if (from.version < 4) return false;
  switch (from.cls) {
    case Cls::Array: return p == Prop::elementSchema;
    case Cls::Object: return p == Prop::fields;
    case Cls::Field: case Cls::MapValue: return p == Prop::schema;
    case Cls::Map: return p == Prop::mapValue;
    default: return false;
  }
}

}  // namespace

void ModelChecker::error(std::string_view id, const Element& at, std::string message) {
  error_at(id, at, at.path, std::move(message));
}

void ModelChecker::error_at(std::string_view id, const Element& at, std::string path, std::string message) {
  const Element* named = &at;
  while (!named->id_explicit && named->parent != kNoElement) named = &el(named->parent);
  diag_.add(id, at.doc, std::move(path), named->id_explicit ? named->id : std::string(), std::move(message));
}

bool ModelChecker::resolve() {
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (!e.id_explicit) continue;
    auto [it, inserted] = ids_.emplace(e.id, i);
    if (!inserted) {
      error("duplicateDefinition", e,
            "@id '" + e.id + "' is already used by another element (" + el(it->second).path +
                " in document " + std::to_string(el(it->second).doc) + "); every @id must be unique");
    }
  }
  bool complete = true;
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    const ClassSpec& cs = metamodel(e.version).cls(e.cls);
    for (auto& member : m_.elements[i].members) {
      const PropSpec* spec = cs.find(member.prop);
      if (!spec) continue;
      for (Ref& r : member.refs) {
        if (r.kind == Ref::Kind::reference) {
          auto it = ids_.find(r.dtmi);
          if (it == ids_.end()) {
            diag_.add_unresolved(r.dtmi);
            complete = false;
            continue;
          }
          r.element = it->second;
        }
        if (r.kind != Ref::Kind::standard) check_reference(i, *spec, r);
      }
    }
  }
  return complete;
}

void ModelChecker::check_reference(ElementIndex from, const PropSpec& spec, Ref& ref) {
  const Element& src = el(from);
  const Element& dst = el(ref.element);
  const std::string pname(prop_name(spec.prop));
  const std::string at = src.path + "." + pname;
  if (!has(spec.allowed, dst.cls)) {
    error_at("badType", src, at,
          "'" + pname + "' refers to '" + dst.id + "', a " + std::string(cls_name(dst.cls)) +
              ", which is not allowed there");
    ref.element = kNoElement;
    return;
  }
  if (dst.version != src.version && !(spec.allow_older_versions && dst.version < src.version)) {
    error_at("badType", src, at,
          "'" + pname + "' includes '" + dst.id + "', written in DTDL v" +
              std::to_string(dst.version) + ", which a DTDL v" + std::to_string(src.version) +
              " element cannot include there");
    ref.element = kNoElement;
    return;
  }
  if (ref.kind == Ref::Kind::reference && dst.cls != Cls::Interface && !dst.top_level &&
      dst.partition != src.partition) {
    error_at("nonReferenceable", src, at,
          "'" + pname + "' refers to '" + dst.id +
              "', which is defined inside another Interface; only Interfaces and top-level "
              "elements can be referenced from elsewhere");
    ref.element = kNoElement;
  }
}

std::vector<ElementIndex> all_contents(const ParsedModel& model, ElementIndex iface) {
  auto el = [&](ElementIndex i) -> const Element& { return model.elements[i]; };
  std::vector<ElementIndex> out;
  std::unordered_set<ElementIndex> seen_iface, seen_content;
  std::vector<ElementIndex> stack{iface};
  while (!stack.empty()) {
    ElementIndex i = stack.back();
    stack.pop_back();
    if (!seen_iface.insert(i).second) continue;
    const Element& e = el(i);
    if (const auto* c = e.refs(Prop::contents))
      for (const Ref& r : *c)
        if (r.element != kNoElement && seen_content.insert(r.element).second) out.push_back(r.element);
    if (const auto* x = e.refs(Prop::extends))
      for (const Ref& r : *x)
        if (r.element != kNoElement) stack.push_back(r.element);
  }
  return out;
}

void ModelChecker::check() {
  check_unique_names();
  check_extends();
  check_counts();
  check_schema_depth();
  check_components();
  check_v2_property_schemas();
  check_enum_values();
  check_semantic_types();
  check_adjunct_rules();
  check_cycles();
}

void ModelChecker::check_unique_names() {
  auto unique = [&](const Element& owner, const std::vector<ElementIndex>& members,
                    const char* what) {
    std::unordered_map<std::string, ElementIndex> names;
    for (ElementIndex m : members) {
      const Element& c = el(m);
      if (c.name.empty()) continue;
      auto [it, inserted] = names.emplace(c.name, m);
      if (!inserted && it->second != m) {
        error("duplicateName", c,
              std::string(what) + " name '" + c.name + "' is used twice in " + owner.id +
                  (owner.cls == Cls::Interface ? " (names must be unique, including inherited ones)" : ""));
      }
    }
  };
  auto direct = [&](const Element& e, Prop p) {
    std::vector<ElementIndex> out;
    if (const auto* refs = e.refs(p))
      for (const Ref& r : *refs)
        if (r.element != kNoElement) out.push_back(r.element);
    return out;
  };
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    switch (e.cls) {
      case Cls::Interface: unique(e, all_contents(m_, i), "content"); break;
      case Cls::Object: unique(e, direct(e, Prop::fields), "field"); break;
      case Cls::Enum: unique(e, direct(e, Prop::enumValues), "enum value"); break;
      case Cls::Relationship: unique(e, direct(e, Prop::properties), "relationship property"); break;
      default: break;
    }
  }
}

void ModelChecker::check_extends() {
  // Depth of the extends hierarchy and total number of extends values reachable.
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cls != Cls::Interface) continue;
    const int limit = max_extends_depth(e, m_.contexts[e.context]);
    int total = 0;
    int deepest = 0;
    bool cyclic = false;
    std::vector<ElementIndex> path;
    std::function<void(ElementIndex, int)> walk = [&](ElementIndex n, int depth) {
      if (cyclic || deepest > limit || total > kMaxExtendsTotal) return;
      deepest = std::max(deepest, depth);
      const auto* bases = el(n).refs(Prop::extends);
      if (!bases) return;
      for (const Ref& r : *bases) {
        ++total;
        if (r.element == kNoElement) continue;
        if (r.element == i || std::find(path.begin(), path.end(), r.element) != path.end()) {
          cyclic = cyclic || r.element == i;
          continue;
        }
        path.push_back(r.element);
        walk(r.element, depth + 1);
        path.pop_back();
      }
    };
    walk(i, 0);
    if (cyclic) {
      reported_cycle_.insert(i);
      error("recursiveStructure", e, "Interface " + e.id + " extends itself (through 'extends')");
    } else if (deepest > limit) {
      error("excessiveDepth", e, "the 'extends' hierarchy of " + e.id + " is more than " +
                                     std::to_string(limit) + " levels deep");
    } else if (e.version >= 3 && total > kMaxExtendsTotal) {
      error("excessiveCount", e, "the 'extends' hierarchy of " + e.id + " has more than " +
                                     std::to_string(kMaxExtendsTotal) + " values in all");
    }
  }
}

void ModelChecker::check_counts() {
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    const ClassSpec& cs = metamodel(e.version).cls(e.cls);
    for (const PropSpec& ps : cs.props) {
      if (!ps.max_count && !ps.min_count) continue;
      std::size_t n = 0;
      if (ps.prop == Prop::contents) {
        n = all_contents(m_, i).size();
      } else if (const auto* refs = e.refs(ps.prop)) {
        n = refs->size();
      } else if (!ps.required) {
        continue;
      }
      if (ps.max_count && n > static_cast<std::size_t>(ps.max_count)) {
        error("excessiveCount", e, "'" + std::string(prop_name(ps.prop)) + "' has " + std::to_string(n) +
                                       " elements; DTDL v" + std::to_string(e.version) +
                                       " allows at most " + std::to_string(ps.max_count));
      }
      if (ps.min_count && n < static_cast<std::size_t>(ps.min_count) && e.refs(ps.prop)) {
        error("tooFewValues", e, "'" + std::string(prop_name(ps.prop)) + "' needs at least " +
                                     std::to_string(ps.min_count) + " element");
      }
    }
  }
}

int ModelChecker::schema_depth(ElementIndex n, std::vector<int>& memo,
                               std::vector<char>& state) const {
  if (state[n] == 2) return memo[n];
  if (state[n] == 1) return 0;  // a cycle; reported by check_cycles
  state[n] = 1;
  int depth = 0;
  const Element& e = el(n);
  for (Prop p : kSchemaMembers) {
    const auto* refs = e.refs(p);
    if (!refs) continue;
    for (const Ref& r : *refs) {
      int edge = counts_as_schema_edge(p) ? 1 : 0;
      int below = r.element != kNoElement ? schema_depth(r.element, memo, state) : 0;
      depth = std::max(depth, edge + below);
    }
  }
  if (e.cls == Cls::MapKey) depth = std::max(depth, 1);  // its schema is always "string"
  memo[n] = depth;
  state[n] = 2;
  return depth;
}

void ModelChecker::check_schema_depth() {
  std::vector<int> memo(m_.elements.size(), 0);
  std::vector<char> state(m_.elements.size(), 0);
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cls != Cls::Array && e.cls != Cls::Map && e.cls != Cls::Object) continue;
    int d = schema_depth(i, memo, state);
    const int limit = max_schema_depth(e, m_.contexts[e.context]);
    if (d > limit) {
      error("excessiveDepth", e, "complex schema " + e.id + " nests schemas " + std::to_string(d) +
                                     " levels deep; at most " + std::to_string(limit) +
                                     " are allowed");
    }
  }
}

void ModelChecker::check_components() {
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cls != Cls::Component) continue;
    const auto* s = e.refs(Prop::schema);
    if (!s || s->empty() || (*s)[0].element == kNoElement) continue;
    for (ElementIndex c : all_contents(m_, (*s)[0].element)) {
      if (c == i) break;  // a component containing itself: reported as a cycle
      if (el(c).cls == Cls::Component) {
        error("nestedComponent", e,
              "component '" + e.name + "' uses Interface " + el((*s)[0].element).id +
                  ", which has its own component '" + el(c).name +
                  "'; components cannot be nested");
        break;
      }
    }
  }
}

bool ModelChecker::schema_tree_has(ElementIndex root,
                                   bool (*pred)(const Element*, const Ref&)) const {
  std::unordered_set<ElementIndex> seen;
  std::vector<ElementIndex> stack{root};
  while (!stack.empty()) {
    ElementIndex n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    for (Prop p : kSchemaMembers) {
      const auto* refs = el(n).refs(p);
      if (!refs) continue;
      for (const Ref& r : *refs) {
        if (pred(target(r), r)) return true;
        if (r.element != kNoElement) stack.push_back(r.element);
      }
    }
  }
  return false;
}

void ModelChecker::check_v2_property_schemas() {
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cls != Cls::Property || e.version != 2) continue;
    if (schema_tree_has(i, [](const Element* t, const Ref&) { return t && t->cls == Cls::Array; })) {
      error("arrayInProperty", e, "in DTDL v2 a Property's schema may not contain an Array; use a "
                                  "Telemetry, or a Map/Object, or move to DTDL v3");
    }
    if (schema_tree_has(i, [](const Element*, const Ref& r) {
          return r.kind == Ref::Kind::standard && is_geospatial(r.standard);
        })) {
      error("geospatialInProperty", e, "in DTDL v2 a Property's schema may not contain a geospatial "
                                       "schema; use a Telemetry or move to DTDL v3");
    }
  }
}

void ModelChecker::check_enum_values() {
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cls != Cls::Enum) continue;
    const auto* values = e.refs(Prop::enumValues);
    if (!values) continue;
    std::vector<const Element*> seen;
    for (const Ref& r : *values) {
      const Element* v = target(r);
      if (!v) continue;
      bool is_int = std::holds_alternative<long long>(v->enum_value);
      bool is_str = std::holds_alternative<std::string>(v->enum_value);
      if (e.value_schema == StdSchema::integer && !is_int && (is_str || true)) {
        if (!std::holds_alternative<std::monostate>(v->enum_value) || is_str)
          error("badValue", *v, "enum value '" + v->name + "' must be an integer, as the Enum's valueSchema is integer");
        continue;
      }
      if (e.value_schema == StdSchema::string && !is_str) {
        if (is_int) error("badValue", *v, "enum value '" + v->name + "' must be a string, as the Enum's valueSchema is string");
        continue;
      }
      for (const Element* o : seen) {
        if (o->enum_value == v->enum_value) {
          error("duplicateEnumValue", *v, "enum values '" + o->name + "' and '" + v->name +
                                              "' have the same value; each must be unique");
          break;
        }
      }
      seen.push_back(v);
    }
  }
}

StdSchema ModelChecker::schema_of(const Element& e, const Element** complex) const {
  *complex = nullptr;
  const auto* s = e.refs(Prop::schema);
  if (!s || s->empty()) return StdSchema::none;
  const Ref& r = (*s)[0];
  if (r.kind == Ref::Kind::standard) return r.standard;
  *complex = target(r);
  return StdSchema::none;
}

void ModelChecker::check_semantic_types() {
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cotypes.empty()) continue;
    const ActiveContext& ctx = m_.contexts[e.context];
    const Element* complex = nullptr;
    StdSchema schema = schema_of(e, &complex);
    for (const std::string& c : e.cotypes) {
      const SemanticType* st = nullptr;
      SchemaRule rule = SchemaRule::none;
      const AdjunctType* adj = nullptr;
      for (const Extension* x : ctx.extensions)
        if (const AdjunctType* a = x->adjunct(c)) adj = a;
      if (adj) {
        st = adj->semantic;
        rule = adj->schema_rule;
      } else if (e.version == 2) {
        st = vocabulary(2).semantic_type(c);
        rule = SchemaRule::numeric;
      }
      std::size_t semantic_types = 0;
      for (const auto& other : e.cotypes) {
        for (const Extension* x : ctx.extensions)
          if (const AdjunctType* oa = x->adjunct(other); oa && oa->semantic) ++semantic_types;
        if (e.version == 2 && vocabulary(2).semantic_type(other)) ++semantic_types;
      }
      if (st && semantic_types == 1) {
        if (e.unit.empty()) {
          error("missingRequiredProperty", e, "'" + e.name + "' has semantic type " + c +
                                                  ", so it needs a 'unit', e.g. \"" + st->units.front() + "\"");
        } else if (!vocabulary(e.version).is_unit_of(*st, e.unit) &&
                   std::find(st->units.begin(), st->units.end(), e.unit) == st->units.end()) {
          error("badUnit", e, "unit '" + e.unit + "' does not fit semantic type " + c + "; use one of: " +
                                  [&] {
                                    std::string s;
                                    for (const auto& u : st->units) s += (s.empty() ? "" : ", ") + u;
                                    return s;
                                  }());
        }
      }
      bool ok = true;
      switch (rule) {
        case SchemaRule::numeric: ok = is_numeric(schema); break;
        case SchemaRule::numeric_or_string: ok = is_numeric(schema) || schema == StdSchema::string; break;
        case SchemaRule::enum_schema: ok = complex && complex->cls == Cls::Enum; break;
        case SchemaRule::geo: ok = is_geospatial(schema) || schema == StdSchema::geopoint; break;
        case SchemaRule::vector: ok = schema == StdSchema::vector; break;
        case SchemaRule::none: break;
      }
      if (!ok && (e.refs(Prop::schema) != nullptr)) {
        const char* need = rule == SchemaRule::numeric ? "a numeric schema (double, float, integer or long)"
                           : rule == SchemaRule::numeric_or_string ? "a numeric schema or string"
                           : rule == SchemaRule::enum_schema ? "an Enum schema"
                           : rule == SchemaRule::geo ? "a geospatial schema (point, polygon, ...) or geopoint"
                                                     : "the vector schema";
        error("badSchemaForCotype", e, "'" + e.name + "' is co-typed " + c + ", which requires " + need);
      }
    }
  }
}

void ModelChecker::check_adjunct_rules() {
  auto value_of = [](const Element& e, std::string_view key) -> const std::string* {
    for (const auto& [k, v] : e.extension_values)
      if (k == key) return &v;
    return nullptr;
  };
  for (ElementIndex i = 0; i < m_.elements.size(); ++i) {
    const Element& e = el(i);
    if (e.cotypes.empty()) continue;
    const ActiveContext& ctx = m_.contexts[e.context];
    for (const Extension* x : ctx.extensions) {
      for (const auto& c : e.cotypes) {
        const AdjunctType* a = x->adjunct(c);
        if (!a) continue;
        // A vector's optional unit must be of the declared unit type (e.g. VelocityUnit).
        if (!a->semantic && !a->unit_type.empty() && !e.unit.empty()) {
          std::string type = a->unit_type.substr(0, a->unit_type.size() - 4);  // VelocityUnit -> Velocity
          const SemanticType* st = vocabulary(2).semantic_type(type);
          if (st && !vocabulary(2).is_unit_of(*st, e.unit))
            error("badUnit", e, "unit '" + e.unit + "' is not a " + a->unit_type);
        }
        for (const auto& p : a->props) {
          const std::string* v = value_of(e, p.name);
          if (!v || e.parent == kNoElement) continue;
          const Element& parent = el(e.parent);
          const auto* siblings = parent.refs(e.parent_prop);
          if (p.format == Format::sibling_name) {
            bool found = false;
            for (ElementIndex s : parent.cls == Cls::Interface ? all_contents(m_, e.parent) : std::vector<ElementIndex>{})
              found |= s != i && el(s).name == *v;
            if (!found)
              error("badValue", e, "'" + p.name + "' is '" + *v + "', but no other content of " + parent.id +
                                       " has that name");
          }
          if (p.unique_among_siblings && siblings) {
            for (const Ref& r : *siblings) {
              if (r.element == kNoElement || r.element >= i) continue;
              const std::string* other = value_of(el(r.element), p.name);
              if (other && *other == *v)
                error("duplicateValue", e, "'" + p.name + "' " + *v + " is also used by '" + el(r.element).name +
                                               "'; it must be unique among its siblings");
            }
          }
        }
      }
    }
  }
}

void ModelChecker::check_cycles() {
  // No element may have a path to itself through dependent references.
  const std::size_t n = m_.elements.size();
  std::vector<char> state(n, 0);
  std::vector<std::pair<ElementIndex, std::size_t>> stack;
  for (ElementIndex start = 0; start < n; ++start) {
    if (state[start]) continue;
    stack.push_back({start, 0});
    state[start] = 1;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      const Element& e = el(node);
      // Flatten the children of `node` lazily: walk members in order.
      std::size_t k = next;
      ElementIndex child = kNoElement;
      bool found = false;
      std::size_t idx = 0;
      for (const auto& member : e.members) {
        for (const Ref& r : member.refs) {
          if (idx++ < k) continue;
          if (r.element == kNoElement || recursion_allowed(e, member.prop)) continue;
          child = r.element;
          found = true;
          break;
        }
        if (found) break;
      }
      next = idx;
      if (!found) {
        state[node] = 2;
        stack.pop_back();
        continue;
      }
      if (state[child] == 1) {
        if (!reported_cycle_.count(child) && !reported_cycle_.count(node)) {
          reported_cycle_.insert(child);
          error("recursiveStructure", el(child),
                "element " + el(child).id + " contains itself through a chain of references");
        }
        continue;
      }
      if (state[child] == 0) {
        state[child] = 1;
        stack.push_back({child, 0});
      }
    }
  }
}

}  // namespace castor::model
