#include "rules/cloud_event.hpp"

#include "common/json.hpp"

namespace castor::rules {

std::string to_json(const CloudEvent& e) {
  std::string out;
  out.reserve(e.data.size() + 512);
  out += '{';
  bool first = true;
  auto field = [&](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    if (!first) out += ',';
    first = false;
    json::append_string(out, name);
    out += ':';
    json::append_string(out, value);
  };
  field("specversion", e.specversion);
  field("id", e.id);
  field("type", e.type);
  field("source", e.source);
  if (!e.data.empty()) {
    out += first ? "\"data\":" : ",\"data\":";
    first = false;
    out += e.data;
  }
  field("dataschema", e.dataschema);
  field("subject", e.subject);
  field("time", e.time);
  field("datacontenttype", e.datacontenttype);
  field("traceparent", e.traceparent);
  out += '}';
  return out;
}

const std::string& attribute(const CloudEvent& e, std::string_view name) {
  static const std::string kEmpty;
  if (name == "id") return e.id;
  if (name == "source") return e.source;
  if (name == "specversion") return e.specversion;
  if (name == "type") return e.type;
  if (name == "datacontenttype") return e.datacontenttype;
  if (name == "dataschema") return e.dataschema;
  if (name == "subject") return e.subject;
  if (name == "time") return e.time;
  if (name == "traceparent") return e.traceparent;
  return kEmpty;
}

}  // namespace castor::rules
