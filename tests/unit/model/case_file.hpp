// The declarative DTDL test-case format (tests/unit/model/cases/*.case): sections introduced by
// lines starting with "--- ". One case per file, one expectation per case.
//
//   # free text
//   --- options allow-undefined-extensions | disallow-undefined-extensions
//   --- model                 (one DTDL document; repeat for a model set)
//   { ... }
//   --- expect valid | expect invalid <validationId> [<json path prefix>]
//
// Instance cases add, after the models (all of which must be valid):
//   --- twin <modelId>          a twin document, validated on its own or as a patch base
//   --- property <modelId> <name> [<component>]   a property value
//   --- patch <modelId>         a JSON Patch applied to the preceding twin
//   --- relationship <modelId> [<targetModelId>]  a relationship document
//   --- telemetry <modelId> [<component>]         a telemetry payload
//   --- expect ok | expect error <message fragment>
#pragma once

#include <string>
#include <vector>

struct CaseSection {
  std::string kind;               // model, twin, property, patch, relationship, telemetry
  std::vector<std::string> args;  // words after the kind
  std::string body;
};

struct TestCase {
  std::string name;
  std::string undefined_extensions;  // "" (per version), "allow" or "disallow"
  std::vector<CaseSection> sections;
  std::string expect;                    // valid, invalid, ok, error
  std::vector<std::string> expect_args;  // id and path, or the message fragment words
};

TestCase read_case(const std::string& path);
