// Compiled models: what the rest of Castor uses of a validated DTDL Interface. Contents are
// flattened across 'extends', names are interned into slots, and schemas are compiled into a
// small tree that instance validation walks without touching JSON-LD. Immutable once built and
// shared between threads through shared_ptr.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/strings.hpp"
#include "model/element.hpp"
#include "model/types.hpp"

namespace castor::model {

struct ParsedModel;

enum class SchemaKind : std::uint8_t { primitive, array, enumeration, map, object };

struct Schema;
using SchemaPtr = std::shared_ptr<const Schema>;

struct FieldDef {
  std::string name;
  SchemaPtr schema;
  std::string unit;  // from a semantic co-type, if any
};

struct EnumEntry {
  std::string name;
  std::variant<long long, std::string> value;
  std::string display_name;
};

struct Schema {
  SchemaKind kind = SchemaKind::primitive;
  StdSchema primitive = StdSchema::none;  // primitive
  std::string id;                         // @id of a complex schema (may be synthetic)
  SchemaPtr element;                      // array: element schema; map: value schema
  std::string map_key_name, map_value_name;
  std::vector<FieldDef> fields;           // object
  StdSchema enum_value_schema = StdSchema::none;  // enumeration: integer or string
  std::vector<EnumEntry> enum_values;

  const FieldDef* field(std::string_view name) const noexcept;
  // Human-readable name, e.g. "double", "Array<integer>", "Enum(string)".
  std::string describe() const;
};

// Shared instances of the primitive schemas.
SchemaPtr primitive_schema(StdSchema s);

enum class ContentKind : std::uint8_t { property, telemetry, relationship, component, command };

struct CompiledInterface;
using InterfacePtr = std::shared_ptr<const CompiledInterface>;

struct ContentDef {
  ContentKind kind = ContentKind::property;
  std::string name;
  std::string defined_in;  // DTMI of the Interface that declares it (may be a base)
  SchemaPtr schema;        // property, telemetry
  bool writable = false;
  std::string semantic_type, unit;
  std::string display_name, description;  // default-language text
  std::int32_t slot = -1;  // property: index into the interface's property slots
  // relationship
  std::string target;
  std::int64_t min_multiplicity = 0, max_multiplicity = -1;  // -1: unbounded
  std::vector<ContentDef> properties;  // relationship properties (kind property)
  // component
  std::string component_model;
  // command
  SchemaPtr request, response;
  std::string request_name, response_name;
};

struct CompiledInterface {
  std::string id;
  int dtdl_version = 3;
  std::string display_name, description;
  std::vector<std::string> extends;    // direct bases
  std::vector<std::string> ancestors;  // every base, transitively (for IS_OF_MODEL)
  std::vector<ContentDef> contents;    // own and inherited
  std::vector<std::uint32_t> property_slots;  // content index of each property slot
  // By property slot: the property's name as a JSON string, quoted and escaped, so that
  // renderers copy it instead of escaping the same name for every twin.
  std::vector<std::string> slot_keys;
  StringMap<std::uint32_t> by_name;  // content index
  StringMap<InterfacePtr> components;  // component name -> its interface
  std::vector<std::string> component_order;  // component names, sorted: a stable index

  const ContentDef* find(std::string_view name) const;
  const ContentDef* property(std::string_view name) const;  // kind property only
  std::size_t property_count() const noexcept { return property_slots.size(); }
  bool is_a(std::string_view model) const;  // itself or an ancestor
};

// Compiles every Interface of a successfully parsed model set.
StringMap<InterfacePtr> compile_interfaces(const ParsedModel& model);

}  // namespace castor::model
