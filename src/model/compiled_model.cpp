#include "model/compiled_model.hpp"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "common/json.hpp"
#include "model/element_parser.hpp"
#include "model/extensions.hpp"
#include "model/model_checker.hpp"

namespace castor::model {
namespace {

std::string default_text(const LangString& s) {
  for (const auto& [lang, text] : s)
    if (lang.empty() || lang == "en" || lang.rfind("en-", 0) == 0) return text;
  return s.empty() ? std::string() : s.front().second;
}

const Ref* first_ref(const Element& e, Prop p) {
  const auto* refs = e.refs(p);
  return refs && !refs->empty() ? &refs->front() : nullptr;
}

class Compiler {
 public:
  explicit Compiler(const ParsedModel& m) : m_(m) {}

  InterfacePtr interface(ElementIndex i) {
    const Element& e = m_.elements[i];
    if (auto it = done_.find(e.id); it != done_.end()) return it->second;
    if (!in_progress_.insert(i).second) return nullptr;  // recursion guard (checked earlier)
    auto out = std::make_shared<CompiledInterface>();
    out->id = e.id;
    out->dtdl_version = e.version;
    out->display_name = default_text(e.display_name);
    out->description = default_text(e.description);
    collect_ancestors(i, *out);
    for (ElementIndex c : all_contents(m_, i)) add_content(c, *out);
    for (const auto& [name, sub] : out->components) out->component_order.push_back(name);
    std::sort(out->component_order.begin(), out->component_order.end());
    in_progress_.erase(i);
    done_[e.id] = out;
    return out;
  }

  StringMap<InterfacePtr> take() { return std::move(done_); }

 private:
  void collect_ancestors(ElementIndex i, CompiledInterface& out) {
    if (const auto* bases = m_.elements[i].refs(Prop::extends))
      for (const Ref& r : *bases)
        if (r.element != kNoElement) out.extends.push_back(m_.elements[r.element].id);
    std::vector<ElementIndex> stack{i};
    std::unordered_set<ElementIndex> seen{i};
    while (!stack.empty()) {
      ElementIndex n = stack.back();
      stack.pop_back();
      if (const auto* bases = m_.elements[n].refs(Prop::extends))
        for (const Ref& r : *bases)
          if (r.element != kNoElement && seen.insert(r.element).second) {
            out.ancestors.push_back(m_.elements[r.element].id);
            stack.push_back(r.element);
          }
    }
  }

  ContentDef content_basics(const Element& c) {
    ContentDef d;
    d.name = c.name;
    d.display_name = default_text(c.display_name);
    d.description = default_text(c.description);
    d.unit = c.unit;
    for (const auto& t : c.cotypes) d.semantic_type = t;  // the last co-type names it
    d.writable = c.writable.value_or(false);
    if (c.parent != kNoElement) d.defined_in = m_.elements[c.parent].id;
    return d;
  }

  void add_content(ElementIndex ci, CompiledInterface& out) {
    const Element& c = m_.elements[ci];
    ContentDef d = content_basics(c);
    switch (c.cls) {
      case Cls::Property:
        d.kind = ContentKind::property;
        d.schema = schema_of(c, Prop::schema);
        d.slot = static_cast<std::int32_t>(out.property_slots.size());
        out.property_slots.push_back(static_cast<std::uint32_t>(out.contents.size()));
        out.slot_keys.emplace_back();
        json::append_string(out.slot_keys.back(), d.name);
        break;
      case Cls::Telemetry:
        d.kind = ContentKind::telemetry;
        d.schema = schema_of(c, Prop::schema);
        break;
      case Cls::Relationship:
        d.kind = ContentKind::relationship;
        d.target = c.target;
        d.min_multiplicity = c.min_multiplicity.value_or(0);
        d.max_multiplicity = c.max_multiplicity.value_or(-1);
        if (const auto* props = c.refs(Prop::properties))
          for (const Ref& r : *props)
            if (r.element != kNoElement) {
              ContentDef p = content_basics(m_.elements[r.element]);
              p.schema = schema_of(m_.elements[r.element], Prop::schema);
              d.properties.push_back(std::move(p));
            }
        break;
      case Cls::Component: {
        d.kind = ContentKind::component;
        if (const Ref* r = first_ref(c, Prop::schema); r && r->element != kNoElement) {
          InterfacePtr sub = interface(r->element);
          d.component_model = m_.elements[r->element].id;
          if (sub) out.components[c.name] = sub;
        }
        break;
      }
      case Cls::Command:
        d.kind = ContentKind::command;
        payload(c, Prop::request, d.request, d.request_name);
        payload(c, Prop::response, d.response, d.response_name);
        break;
      default:
        return;
    }
    out.by_name[d.name] = static_cast<std::uint32_t>(out.contents.size());
    out.contents.push_back(std::move(d));
  }

  void payload(const Element& cmd, Prop p, SchemaPtr& schema, std::string& name) {
    const Ref* r = first_ref(cmd, p);
    if (!r || r->element == kNoElement) return;
    const Element& pe = m_.elements[r->element];
    name = pe.name;
    schema = schema_of(pe, Prop::schema);
  }

  SchemaPtr schema_of(const Element& e, Prop p) {
    const Ref* r = first_ref(e, p);
    if (!r) return nullptr;
    return schema_ref(*r);
  }

  SchemaPtr schema_ref(const Ref& r) {
    if (r.kind == Ref::Kind::standard && !r.dtmi.empty()) return extension_enum(r.dtmi);
    if (r.kind == Ref::Kind::standard) return primitive_schema(r.standard);
    if (r.element == kNoElement) return nullptr;
    return complex(r.element);
  }

  // An extension's enumeration schema (e.g. TemperatureUnit): an Enum of its unit names.
  SchemaPtr extension_enum(const std::string& term) {
    auto s = std::make_shared<Schema>();
    s->kind = SchemaKind::enumeration;
    s->id = term;
    s->enum_value_schema = StdSchema::string;
    if (const auto* values = extension_enum_schema(term))
      for (const auto& v : *values) s->enum_values.push_back({v, v, ""});
    return s;
  }

  SchemaPtr complex(ElementIndex i) {
    if (auto it = schemas_.find(i); it != schemas_.end()) return it->second;
    const Element& e = m_.elements[i];
    auto s = std::make_shared<Schema>();
    s->id = e.id;
    schemas_[i] = s;  // before recursing: DTDL v4 schemas may be recursive
    switch (e.cls) {
      case Cls::Array:
        s->kind = SchemaKind::array;
        s->element = schema_of(e, Prop::elementSchema);
        break;
      case Cls::Map: {
        s->kind = SchemaKind::map;
        if (const Ref* k = first_ref(e, Prop::mapKey); k && k->element != kNoElement)
          s->map_key_name = m_.elements[k->element].name;
        if (const Ref* v = first_ref(e, Prop::mapValue); v && v->element != kNoElement) {
          s->map_value_name = m_.elements[v->element].name;
          s->element = schema_of(m_.elements[v->element], Prop::schema);
        }
        break;
      }
      case Cls::Object:
        s->kind = SchemaKind::object;
        if (const auto* fields = e.refs(Prop::fields))
          for (const Ref& f : *fields)
            if (f.element != kNoElement) {
              const Element& fe = m_.elements[f.element];
              s->fields.push_back({fe.name, schema_of(fe, Prop::schema), fe.unit});
            }
        break;
      case Cls::Enum:
        s->kind = SchemaKind::enumeration;
        s->enum_value_schema = e.value_schema;
        if (const auto* values = e.refs(Prop::enumValues))
          for (const Ref& v : *values)
            if (v.element != kNoElement) {
              const Element& ve = m_.elements[v.element];
              EnumEntry entry{ve.name, 0LL, default_text(ve.display_name)};
              if (const auto* n = std::get_if<long long>(&ve.enum_value)) entry.value = *n;
              if (const auto* t = std::get_if<std::string>(&ve.enum_value)) entry.value = *t;
              s->enum_values.push_back(std::move(entry));
            }
        break;
      default:
        break;
    }
    return s;
  }

  const ParsedModel& m_;
  StringMap<InterfacePtr> done_;
  std::unordered_set<ElementIndex> in_progress_;
  std::unordered_map<ElementIndex, std::shared_ptr<Schema>> schemas_;
};

}  // namespace

const FieldDef* Schema::field(std::string_view name) const noexcept {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::string Schema::describe() const {
  switch (kind) {
    case SchemaKind::primitive: return std::string(std_schema_name(primitive));
    case SchemaKind::array: return "Array<" + (element ? element->describe() : std::string("?")) + ">";
    case SchemaKind::map: return "Map<string, " + (element ? element->describe() : std::string("?")) + ">";
    case SchemaKind::object: return "Object";
    case SchemaKind::enumeration: return "Enum(" + std::string(std_schema_name(enum_value_schema)) + ")";
  }
  return "?";
}

SchemaPtr primitive_schema(StdSchema s) {
  static const std::vector<SchemaPtr> all = [] {
    std::vector<SchemaPtr> v;
    for (int i = 0; i < static_cast<int>(StdSchema::kCount); ++i) {
      auto p = std::make_shared<Schema>();
      p->primitive = static_cast<StdSchema>(i);
      p->id = std::string(std_schema_name(p->primitive));
      v.push_back(p);
    }
    return v;
  }();
  return all[static_cast<std::size_t>(s)];
}

const ContentDef* CompiledInterface::find(std::string_view name) const {
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : &contents[it->second];
}

const ContentDef* CompiledInterface::property(std::string_view name) const {
  const ContentDef* c = find(name);
  return c && c->kind == ContentKind::property ? c : nullptr;
}

bool CompiledInterface::is_a(std::string_view model) const {
  if (id == model) return true;
  return std::find(ancestors.begin(), ancestors.end(), model) != ancestors.end();
}

StringMap<InterfacePtr> compile_interfaces(const ParsedModel& model) {
  Compiler c(model);
  for (ElementIndex i = 0; i < model.elements.size(); ++i)
    if (model.elements[i].cls == Cls::Interface) c.interface(i);
  return c.take();
}

}  // namespace castor::model
