#include "factory.hpp"

#include <random>

namespace castor::bench {
namespace {

constexpr const char* kAsset = "dtmi:bench:Asset;1";

std::string property(const char* name, const char* schema) {
  return std::string(R"({"@type": "Property", "name": ")") + name + R"(", "schema": ")" + schema +
         R"(", "writable": true})";
}

std::string interface(const char* id, const char* extends, std::vector<std::string> contents) {
  std::string s = R"({"@context": "dtmi:dtdl:context;3", "@id": ")" + std::string(id) +
                  R"(", "@type": "Interface")";
  if (extends) s += R"(, "extends": ")" + std::string(extends) + "\"";
  s += R"(, "contents": [)";
  for (std::size_t i = 0; i < contents.size(); ++i) s += (i ? "," : "") + contents[i];
  return s + "]}";
}

std::string relationship(const char* name, const char* target) {
  return std::string(R"({"@type": "Relationship", "name": ")") + name + R"(", "target": ")" + target + "\"}";
}

// The 16 properties every asset has.
void asset_properties(json::object& o, std::mt19937_64& rng, std::size_t line, std::size_t n) {
  std::uniform_real_distribution<double> u(0, 1);
  o["temperature"] = 20 + 100 * u(rng);
  o["pressure"] = 1 + 9 * u(rng);
  o["vibration"] = 10 * u(rng);
  o["power"] = 50 * u(rng);
  o["speed"] = 3000 * u(rng);
  o["cycleCount"] = static_cast<std::int64_t>(rng() % 1000000);
  o["uptime"] = 10000 * u(rng);
  const double s = u(rng);
  o["state"] = s < 0.01 ? "fault" : s < 0.10 ? "idle" : "running";
  o["serial"] = "SN" + std::to_string(rng() % 100000000);
  o["vendor"] = (n % 3 == 0) ? "Kuka" : (n % 3 == 1) ? "ABB" : "Fanuc";
  o["firmware"] = "v" + std::to_string(1 + n % 5) + "." + std::to_string(n % 10);
  o["line"] = static_cast<std::int64_t>(line);
  o["zone"] = "zone-" + std::to_string(n % 12);
  o["enabled"] = (n % 17) != 0;
  o["lastService"] = "2026-0" + std::to_string(1 + n % 9) + "-1" + std::to_string(n % 10) + "T08:00:00Z";
  o["errorCode"] = static_cast<std::int64_t>(s < 0.01 ? 100 + rng() % 50 : 0);
}

TwinDoc make(std::string id, const char* model, std::mt19937_64& rng, std::size_t line, std::size_t n) {
  TwinDoc t{std::move(id), model, {}};
  t.doc["$dtId"] = t.id;
  t.doc["$metadata"] = json::object{{"$model", model}};
  asset_properties(t.doc, rng, line, n);
  return t;
}

}  // namespace

json::value factory_models() {
  std::vector<std::string> asset;
  for (const char* d : {"temperature", "pressure", "vibration", "power", "speed", "uptime"})
    asset.push_back(property(d, "double"));
  for (const char* i : {"cycleCount", "line", "errorCode"}) asset.push_back(property(i, "integer"));
  for (const char* s : {"state", "serial", "vendor", "firmware", "zone"}) asset.push_back(property(s, "string"));
  asset.push_back(property("enabled", "boolean"));
  asset.push_back(property("lastService", "dateTime"));
  std::string all = "[" + interface(kAsset, nullptr, asset) + ",";
  all += interface("dtmi:bench:Sensor;1", kAsset,
                   {property("kind", "string"), property("unit", "string"), property("value", "double"),
                    property("rate", "double")}) + ",";
  all += interface("dtmi:bench:Conveyor;1", kAsset,
                   {property("beltSpeed", "double"), property("length", "double"), property("load", "double"),
                    property("direction", "string"), relationship("hasSensor", "dtmi:bench:Sensor;1")}) + ",";
  all += interface("dtmi:bench:Robot;1", kAsset,
                   {property("payload", "double"), property("reach", "double"), property("axes", "integer"),
                    property("program", "string"), relationship("feeds", "dtmi:bench:Conveyor;1")}) + ",";
  all += interface("dtmi:bench:Line;1", kAsset,
                   {property("name", "string"), property("shift", "string"), property("output", "double"),
                    property("target", "double"), relationship("contains", "dtmi:bench:Robot;1")}) + "]";
  return *json::parse(all);
}

void generate_factory(std::size_t lines, std::size_t batch,
                      const std::function<void(std::vector<TwinDoc>&)>& twins,
                      const std::function<void(std::vector<RelationshipDoc>&)>& relationships) {
  std::mt19937_64 rng(42);
  std::vector<TwinDoc> tb;
  auto push = [&](TwinDoc t) {
    tb.push_back(std::move(t));
    if (tb.size() >= batch) {
      twins(tb);
      tb.clear();
    }
  };
  std::size_t n = 0;
  for (std::size_t l = 0; l < lines; ++l) {
    const std::string ls = std::to_string(l);
    TwinDoc line = make("line-" + ls, "dtmi:bench:Line;1", rng, l, n++);
    line.doc["name"] = "Line " + ls;
    line.doc["shift"] = l % 2 ? "B" : "A";
    line.doc["output"] = 100.0 + static_cast<double>(l % 50);
    line.doc["target"] = 150.0;
    push(std::move(line));
    for (int r = 0; r < kRobotsPerLine; ++r) {
      TwinDoc t = make("robot-" + ls + "-" + std::to_string(r), "dtmi:bench:Robot;1", rng, l, n++);
      t.doc["payload"] = 5.0 + r % 20;
      t.doc["reach"] = 1.2 + 0.01 * r;
      t.doc["axes"] = 6;
      t.doc["program"] = "weld-" + std::to_string(r % 7);
      push(std::move(t));
    }
    for (int c = 0; c < kConveyorsPerLine; ++c) {
      TwinDoc t = make("conveyor-" + ls + "-" + std::to_string(c), "dtmi:bench:Conveyor;1", rng, l, n++);
      t.doc["beltSpeed"] = 0.5 + 0.01 * c;
      t.doc["length"] = 10.0 + c % 5;
      t.doc["load"] = 0.1 * (c % 10);
      t.doc["direction"] = c % 2 ? "forward" : "reverse";
      push(std::move(t));
      for (int s = 0; s < kSensorsPerConveyor; ++s) {
        TwinDoc st = make("sensor-" + ls + "-" + std::to_string(c * kSensorsPerConveyor + s), "dtmi:bench:Sensor;1",
                          rng, l, n++);
        st.doc["kind"] = s % 2 ? "temperature" : "vibration";
        st.doc["unit"] = s % 2 ? "degC" : "mm/s";
        st.doc["value"] = 0.5 * s;
        st.doc["rate"] = 10.0;
        push(std::move(st));
      }
    }
  }
  if (!tb.empty()) twins(tb);
  std::vector<RelationshipDoc> rb;
  auto rel = [&](RelationshipDoc r) {
    rb.push_back(std::move(r));
    if (rb.size() >= batch) {
      relationships(rb);
      rb.clear();
    }
  };
  for (std::size_t l = 0; l < lines; ++l) {
    const std::string ls = std::to_string(l);
    for (int r = 0; r < kRobotsPerLine; ++r) {
      const std::string robot = "robot-" + ls + "-" + std::to_string(r);
      const std::string conveyor = "conveyor-" + ls + "-" + std::to_string(r);
      rel({"line-" + ls, "contains-" + std::to_string(r), "contains", robot});
      rel({robot, "feeds-0", "feeds", conveyor});
    }
    for (int c = 0; c < kConveyorsPerLine; ++c) {
      const std::string conveyor = "conveyor-" + ls + "-" + std::to_string(c);
      for (int s = 0; s < kSensorsPerConveyor; ++s) {
        rel({conveyor, "hasSensor-" + std::to_string(s), "hasSensor",
             "sensor-" + ls + "-" + std::to_string(c * kSensorsPerConveyor + s)});
      }
    }
  }
  if (!rb.empty()) relationships(rb);
}

}  // namespace castor::bench
