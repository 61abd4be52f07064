#include "query/path_reader.hpp"

#include <algorithm>

#include "twin/twin_json.hpp"

namespace castor::query {
namespace {

using Names = std::span<const std::string_view>;
using model::CompiledInterface;
using twin::Cell;
using twin::Cells;
using twin::Twin;
using twin::Value;

const json::value* parse_kept(std::string_view text, Scratch& s) {
  auto parsed = json::parse(text);
  if (!parsed) return nullptr;
  return &s.keep(std::move(*parsed));
}

// Follows `names` through nested objects (maps and DTDL objects); arrays cannot be indexed.
Datum navigate(const json::value& v, Names names) {
  const json::value* at = &v;
  for (std::string_view name : names) {
    if (!at->is_object()) return Datum::undefined();
    at = at->get_object().if_contains(name);
    if (at == nullptr) return Datum::undefined();
  }
  return Datum::of_json(*at);
}

Datum read_value(const Value& v, Names rest, Scratch& s) {
  switch (v.kind()) {
    case Value::Kind::unset: return Datum::undefined();
    case Value::Kind::json: {
      const json::value* doc = parse_kept(v.as_text(), s);
      return doc ? navigate(*doc, rest) : Datum::undefined();
    }
    default: break;
  }
  if (!rest.empty()) return Datum::undefined();  // a primitive has no members
  switch (v.kind()) {
    case Value::Kind::null: return Datum::null();
    case Value::Kind::boolean: return Datum::of_bool(v.as_bool());
    case Value::Kind::int64: return Datum::of_int(v.as_int());
    case Value::Kind::uint64: return Datum::of_json(s.keep(json::value(v.as_uint())));
    case Value::Kind::real: return Datum::of_real(v.as_double());
    case Value::Kind::string: return Datum::of_text(v.as_text());
    default: return Datum::undefined();
  }
}

Datum time_text(twin::Nanos t, Scratch& s) {
  return Datum::of_text(s.keep(twin::format_time(t)));
}

// {"lastUpdateTime": ..., "sourceTime": ...} of one property, or one of its two members.
Datum property_metadata(const Twin& t, const Cell& c, std::uint16_t component, std::uint16_t slot,
                        Names rest, Scratch& s) {
  const twin::Nanos source = t.source_time(component, slot);
  if (rest.empty()) {
    json::object o{{"lastUpdateTime", twin::format_time(t.time_of(c))}};
    if (source != 0) o["sourceTime"] = twin::format_time(source);
    return Datum::of_json(s.keep(std::move(o)));
  }
  if (rest.size() != 1) return Datum::undefined();
  if (rest[0] == "lastUpdateTime") return time_text(t.time_of(c), s);
  if (rest[0] == "sourceTime" && source != 0) return time_text(source, s);
  return Datum::undefined();
}

// $metadata of the twin (component 0) or of component `component` (1-based).
Datum read_metadata(const Twin& t, const CompiledInterface& m, const Cells& cells,
                    twin::Nanos last_update, std::uint16_t component, Names rest, Scratch& s) {
  if (rest.empty()) {
    // The twin's whole $metadata object (a component's is read by read_component): rare, so
    // taken from the rendered twin.
    std::string text;
    twin::render_twin(t, text);
    const json::value* doc = parse_kept(text, s);
    if (doc == nullptr || !doc->is_object()) return Datum::undefined();
    const json::value* meta = doc->get_object().if_contains("$metadata");
    return meta ? Datum::of_json(*meta) : Datum::undefined();
  }
  const std::string_view first = rest[0];
  if (first == "$model") {
    return component == 0 && rest.size() == 1 ? Datum::of_text(m.id) : Datum::undefined();
  }
  if (first == "$lastUpdateTime") {
    return rest.size() == 1 ? time_text(last_update, s) : Datum::undefined();
  }
  const model::ContentDef* p = m.property(first);
  if (p == nullptr || static_cast<std::size_t>(p->slot) >= cells.size()) return Datum::undefined();
  const Cell& c = cells[static_cast<std::size_t>(p->slot)];
  if (!c.is_set()) return Datum::undefined();
  return property_metadata(t, c, component, static_cast<std::uint16_t>(p->slot), rest.subspan(1),
                           s);
}

Datum read_property(const model::ContentDef* p, const Cells& cells, Names rest, Scratch& s) {
  if (p == nullptr || p->slot < 0 || static_cast<std::size_t>(p->slot) >= cells.size()) {
    return Datum::undefined();
  }
  return read_value(cells[static_cast<std::size_t>(p->slot)], rest, s);
}

Datum read_cells(const CompiledInterface& m, const Cells& cells, std::string_view name, Names rest,
                 Scratch& s) {
  return read_property(m.property(name), cells, rest, s);
}

Datum whole_component(const Twin& t, std::string_view name, Scratch& s) {
  std::string text;
  if (!twin::render_component(t, name, text)) return Datum::undefined();
  const json::value* doc = parse_kept(text, s);
  return doc ? Datum::of_json(*doc) : Datum::undefined();
}

Datum read_component(const Twin& t, std::string_view name, Names rest, Scratch& s) {
  const auto& order = twin::component_names(*t.model);
  const auto it = std::lower_bound(order.begin(), order.end(), name);
  if (it == order.end() || *it != name) return Datum::undefined();
  const auto index = static_cast<std::size_t>(it - order.begin());
  const auto components = t.components();
  if (index >= components.size()) return Datum::undefined();
  if (rest.empty()) return whole_component(t, name, s);
  const auto found = t.model->components.find(name);
  if (found == t.model->components.end()) return Datum::undefined();
  const CompiledInterface& cm = *found->second;
  const twin::ComponentState& cs = components[index];
  if (rest[0] == "$metadata") {
    if (rest.size() == 1) {
      const Datum whole = whole_component(t, name, s);
      return whole.kind == Datum::Kind::object ? navigate(*whole.doc, rest) : Datum::undefined();
    }
    return read_metadata(t, cm, cs.cells, cs.last_update, static_cast<std::uint16_t>(index + 1),
                         rest.subspan(1), s);
  }
  return read_cells(cm, cs.cells, rest[0], rest.subspan(1), s);
}

}  // namespace

Datum read_twin_path(const Twin& t, Names names, Scratch& s) {
  if (names.empty()) {
    std::string text;
    twin::render_twin(t, text);
    const json::value* doc = parse_kept(text, s);
    return doc ? Datum::of_json(*doc) : Datum::undefined();
  }
  const std::string_view first = names[0];
  const Names rest = names.subspan(1);
  if (first == "$dtId") return rest.empty() ? Datum::of_text(t.id) : Datum::undefined();
  if (first == "$etag") {
    return rest.empty() ? Datum::of_text(s.keep(twin::format_etag(t.etag))) : Datum::undefined();
  }
  const CompiledInterface& m = *t.model;
  if (first == "$metadata") return read_metadata(t, m, t.cells, t.last_update, 0, rest, s);
  if (const model::ContentDef* p = s.property(t.model, first)) {
    return read_property(p, t.cells, rest, s);
  }
  if (m.components.count(first) != 0) return read_component(t, first, rest, s);
  return Datum::undefined();
}

Datum read_relationship_path(std::string_view source, const twin::Relationship& r, Names names,
                             Scratch& s) {
  if (names.empty()) {
    std::string text;
    twin::render_relationship(source, r, text);
    const json::value* doc = parse_kept(text, s);
    return doc ? Datum::of_json(*doc) : Datum::undefined();
  }
  const std::string_view first = names[0];
  if (first.starts_with('$')) {
    if (names.size() != 1) return Datum::undefined();
    if (first == "$relationshipId") return Datum::of_text(r.id);
    if (first == "$sourceId") return Datum::of_text(source);
    if (first == "$targetId") return Datum::of_text(r.target);
    if (first == "$relationshipName") return Datum::of_text(r.name);
    if (first == "$etag") return Datum::of_text(s.keep(twin::format_etag(r.etag)));
    return Datum::undefined();
  }
  if (r.properties.size() <= 2) return Datum::undefined();  // "" or "{}"
  const json::value* props = parse_kept(r.properties, s);
  return props ? navigate(*props, names) : Datum::undefined();
}

}  // namespace castor::query
