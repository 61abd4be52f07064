// DTDL engine benchmarks: parsing and validating a large generated model set (goal: 1,000
// interfaces of 20 contents in <= 200 ms) and validating one 20-property twin (goal: <= 2 us).
// Run: build/bench/model_bench   (prints medians of 10 repetitions)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "model/compiled_model.hpp"
#include "model/instance_validator.hpp"
#include "model/model_parser.hpp"

namespace {

using namespace castor;

const char* kSchemas[] = {"double", "integer", "string", "boolean", "long", "dateTime", "float"};

// Interface i: 12 properties, 5 telemetries (one an Object), 2 relationships, 1 command; every
// 10th interface extends the previous one.
std::string interface_doc(int i) {
  std::string id = "dtmi:bench:factory:Model" + std::to_string(i) + ";1";
  std::string s = R"({"@context": ["dtmi:dtdl:context;3", "dtmi:dtdl:extension:quantitativeTypes;1"], "@id": ")" + id +
                  R"(", "@type": "Interface", "displayName": "Model )" + std::to_string(i) + "\"";
  if (i % 10 && i > 0) s += R"(, "extends": "dtmi:bench:factory:Model)" + std::to_string(i - 1) + ";1\"";
  s += R"(, "contents": [)";
  for (int p = 0; p < 12; ++p) {
    s += R"({"@type": "Property", "name": "p)" + std::to_string(i) + "_" + std::to_string(p) +
         R"(", "writable": true, "schema": ")" + kSchemas[p % 7] + "\"},";
  }
  for (int t = 0; t < 4; ++t)
    s += R"({"@type": ["Telemetry", "Temperature"], "name": "t)" + std::to_string(i) + "_" +
         std::to_string(t) + R"(", "schema": "double", "unit": "degreeCelsius"},)";
  s += R"({"@type": "Telemetry", "name": "pos)" + std::to_string(i) +
       R"(", "schema": {"@type": "Object", "fields": [{"name": "x", "schema": "double"}, {"name": "y", "schema": "double"}]}},)";
  s += R"({"@type": "Relationship", "name": "feeds)" + std::to_string(i) + R"(", "target": "dtmi:bench:factory:Model0;1"},)";
  s += R"({"@type": "Relationship", "name": "partOf)" + std::to_string(i) + R"(", "maxMultiplicity": 1},)";
  s += R"({"@type": "Command", "name": "stop)" + std::to_string(i) + R"(", "request": {"name": "reason", "schema": "string"}}]})";
  return s;
}

void BM_ParseAndValidate1000Interfaces(benchmark::State& state) {
  std::vector<std::string> docs;
  for (int i = 0; i < 1000; ++i) docs.push_back(interface_doc(i));
  std::vector<std::string_view> views(docs.begin(), docs.end());
  for (auto _ : state) {
    model::ParseResult r = model::parse_model_set(views);
    if (!r.ok()) state.SkipWithError(r.summary(3).c_str());
    auto compiled = model::compile_interfaces(r.model);
    benchmark::DoNotOptimize(compiled);
  }
  state.counters["interfaces"] = 1000;
  state.counters["contents"] = 20000;
}
BENCHMARK(BM_ParseAndValidate1000Interfaces)->Unit(benchmark::kMillisecond)->Repetitions(10)->ReportAggregatesOnly(true);

void BM_ValidateTwin20Properties(benchmark::State& state) {
  std::string doc = R"({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:bench:Twin;1", "@type": "Interface", "contents": [)";
  for (int p = 0; p < 20; ++p)
    doc += std::string(p ? "," : "") + R"({"@type": "Property", "name": "prop)" + std::to_string(p) +
           R"(", "schema": ")" + kSchemas[p % 5] + "\"}";
  doc += "]}";
  std::string_view views[] = {doc};
  auto r = model::parse_model_set(views);
  auto models = model::compile_interfaces(r.model);
  const auto& iface = *models.at("dtmi:bench:Twin;1");
  json::object twin;
  twin["$dtId"] = "twin-1";
  twin["$metadata"] = json::object{{"$model", "dtmi:bench:Twin;1"}};
  for (int p = 0; p < 20; ++p) {
    std::string name = "prop" + std::to_string(p);
    switch (p % 5) {
      case 0: twin[name] = 21.5 + p; break;
      case 1: twin[name] = p; break;
      case 2: twin[name] = "value"; break;
      case 3: twin[name] = true; break;
      case 4: twin[name] = 1234567890123LL; break;
    }
  }
  for (auto _ : state) {
    Status s = model::validate_twin(iface, twin);
    if (!s.is_ok()) state.SkipWithError(s.message().c_str());
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_ValidateTwin20Properties)->Unit(benchmark::kNanosecond)->Repetitions(10)->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
