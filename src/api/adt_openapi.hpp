// OpenAPI descriptions of the ADT resources: the shared schemas (twins, relationships, models,
// pages, JSON Patch) and per-operation fragments (request body, success response, headers),
// in Castor's own words. Text only; no behaviour.
#pragma once

#include <string>
#include <string_view>

namespace castor::api::openapi {

// {"components":{"schemas":{...}}} to merge into the document's static part.
std::string adt_schemas();

struct Fragment {
  std::string_view request_schema;       // "" = no body; otherwise a schema name
  std::string_view request_type = "application/json";
  int success = 200;
  std::string_view response_schema;      // "" = no body
  bool etag = false;                     // the response carries an ETag header
  bool if_match = false;                 // accepts If-Match
  bool if_none_match = false;            // accepts If-None-Match: *
  bool paged = false;                    // accepts max-items-per-page
};

// The JSON object merged into an operation.
std::string fragment(const Fragment& f);

}  // namespace castor::api::openapi
