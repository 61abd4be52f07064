// Runs every tests/unit/model/cases/*.case file: one DTDL or instance-validation expectation each.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "case_file.hpp"
#include "common/json.hpp"
#include "model/compiled_model.hpp"
#include "model/instance_validator.hpp"
#include "model/model_parser.hpp"

namespace castor::model {
namespace {

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(CASTOR_SOURCE_DIR "/tests/unit/model/cases"))
    if (e.path().extension() == ".case") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string all_errors(const ParseResult& r) { return r.summary(20); }

json::value parse_json(const std::string& text, const std::string& what) {
  auto v = json::parse(text);
  if (!v) throw std::runtime_error(what + ": " + v.status().message());
  return *v;
}

const CompiledInterface& model_of(const StringMap<InterfacePtr>& models, const std::string& id) {
  auto it = models.find(id);
  if (it == models.end()) throw std::runtime_error("no compiled model " + id);
  return *it->second;
}

Status run_instance(const TestCase& tc, const StringMap<InterfacePtr>& models) {
  json::object last_twin;
  Status result = Status::ok();
  for (const auto& s : tc.sections) {
    if (s.kind == "model") continue;
    if (s.args.empty()) throw std::runtime_error(s.kind + " needs a model id");
    const CompiledInterface& m = model_of(models, s.args[0]);
    json::value v = parse_json(s.body, s.kind);
    std::string extra = s.args.size() > 1 ? s.args[1] : std::string();
    if (s.kind == "twin") {
      last_twin = v.as_object();
      result = validate_twin(m, v.as_object());
    } else if (s.kind == "property") {
      result = validate_property(m, s.args.size() > 2 ? s.args[2] : "", extra, v);
    } else if (s.kind == "patch") {
      auto r = apply_twin_patch(m, last_twin, v);
      result = r.status();
    } else if (s.kind == "relationship") {
      const CompiledInterface* target = extra.empty() ? nullptr : &model_of(models, extra);
      result = validate_relationship(m, v.as_object(), target);
    } else if (s.kind == "telemetry") {
      result = validate_telemetry(m, extra, v.as_object());
    } else {
      throw std::runtime_error("unknown section " + s.kind);
    }
  }
  return result;
}

class DtdlCase : public ::testing::TestWithParam<std::string> {};

TEST_P(DtdlCase, MeetsItsExpectation) {
  TestCase tc = read_case(GetParam());
  std::vector<std::string> docs;
  for (const auto& s : tc.sections)
    if (s.kind == "model") docs.push_back(s.body);
  std::vector<std::string_view> views(docs.begin(), docs.end());
  ParseOptions options;
  if (tc.undefined_extensions == "allow") options.undefined_extensions = UndefinedExtensions::allow;
  if (tc.undefined_extensions == "disallow") options.undefined_extensions = UndefinedExtensions::disallow;
  ParseResult r = parse_model_set(views, options);

  if (tc.expect == "valid") {
    EXPECT_TRUE(r.ok()) << all_errors(r);
    return;
  }
  if (tc.expect == "invalid") {
    ASSERT_FALSE(r.ok()) << "model set was accepted";
    ASSERT_FALSE(tc.expect_args.empty()) << "'expect invalid' needs a ValidationID";
    const std::string id = "dtmi:dtdl:parsingError:" + tc.expect_args[0];
    const std::string path = tc.expect_args.size() > 1 ? tc.expect_args[1] : "";
    if (tc.expect_args[0] == "unresolved") {
      EXPECT_FALSE(r.diagnostics.unresolved().empty()) << all_errors(r);
      return;
    }
    bool found = false;
    for (const auto& e : r.diagnostics.errors())
      if (e.validation_id == id && e.path.rfind(path, 0) == 0) found = true;
    EXPECT_TRUE(found) << "expected " << id << " at " << path << ", got:\n" << all_errors(r);
    return;
  }
  ASSERT_TRUE(r.ok()) << "instance cases need valid models:\n" << all_errors(r);
  auto models = compile_interfaces(r.model);
  Status s = run_instance(tc, models);
  if (tc.expect == "ok") {
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  } else if (tc.expect == "error") {
    std::string fragment;
    for (const auto& w : tc.expect_args) fragment += (fragment.empty() ? "" : " ") + w;
    ASSERT_FALSE(s.is_ok()) << "instance was accepted";
    EXPECT_NE(s.message().find(fragment), std::string::npos)
        << "expected '" << fragment << "' in: " << s.message();
  } else {
    FAIL() << "unknown expectation " << tc.expect;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DtdlCase, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = std::filesystem::path(param.param).stem().string();
                           std::replace_if(n.begin(), n.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
                           return n;
                         });

}  // namespace
}  // namespace castor::model
