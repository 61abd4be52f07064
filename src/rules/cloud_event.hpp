// CloudEvent: one event as event routes deliver it — the CloudEvents 1.0 attributes Azure Digital
// Twins sets, with `data` kept as JSON text. Vocabulary and serialization only; this unit never
// decides what an event contains (event_mapping does) or where it goes (event_routing does).
#pragma once

#include <string>

namespace castor::rules {

struct CloudEvent {
  std::string id;      // unique together with source
  std::string source;  // the instance host name; telemetry: HOST/digitaltwins/<twin id>
  std::string specversion = "1.0";
  std::string type;  // Microsoft.DigitalTwins.Twin.Create, microsoft.iot.telemetry, ...
  std::string datacontenttype = "application/json";
  std::string dataschema;   // telemetry: the model id of the twin or component; else empty
  std::string subject;      // twin id, <twin id>/relationships/<id>, or component; may be empty
  std::string time;         // RFC 3339 with 7 fractional digits, UTC; may be empty
  std::string traceparent;  // W3C trace context
  std::string data;         // the payload as JSON text (an object)
};

// Structured-mode JSON (application/cloudevents+json): attributes in ADT's order, empty ones
// omitted, `data` embedded as-is.
std::string to_json(const CloudEvent& e);

// The CloudEvents attribute names the filter language and the event stream know, in ADT order.
inline constexpr const char* kAttributeNames[] = {
    "id",         "source",  "specversion", "type",       "datacontenttype",
    "dataschema", "subject", "time",        "traceparent"};

// The value of attribute `name` ("" when unset or unknown).
const std::string& attribute(const CloudEvent& e, std::string_view name);

}  // namespace castor::rules
