#include "model/context.hpp"

#include <string_view>

#include "model/dtmi.hpp"
#include "model/extensions.hpp"

namespace castor::model {
namespace {

constexpr std::string_view kDtdlPrefix = "dtmi:dtdl:context;";

// What one @context value is.
enum class Entry { dtdl, limitless, core_limits, limit_extension, extension, unsupported, bad_fragment, bad };

struct Parsed {
  Entry kind = Entry::bad;
  int version = 0;
};

Parsed classify(std::string_view s) {
  if (s.substr(0, kDtdlPrefix.size()) == kDtdlPrefix) {
    std::string_view rest = s.substr(kDtdlPrefix.size());
    if (rest == "2") return {Entry::dtdl, 2};
    if (rest == "3") return {Entry::dtdl, 3};
    if (rest == "4") return {Entry::dtdl, 4};
    if (rest == "4#limitless") return {Entry::limitless, 4};
    if (rest == "4#limits") return {Entry::core_limits, 4};
    if (rest.find('#') != std::string_view::npos) return {Entry::bad_fragment, 0};
    return {Entry::unsupported, 0};
  }
  if (s == "dtmi:dtdl:limits:onvif;1") return {Entry::limit_extension, 4};
  auto d = parse_dtmi(s, 3);
  if (!d.valid || !d.has_version) return {Entry::bad, 0};
  return {Entry::extension, 0};
}

bool collect_strings(const json::value& v, std::vector<std::string>& out,
                     std::vector<ContextProblem>& problems) {
  if (v.is_string()) {
    out.emplace_back(v.get_string());
    return true;
  }
  if (!v.is_array()) {
    problems.push_back({"badContext", "@context must be a string or an array of strings, but it is " +
                                          std::string(json::kind_name(v)) +
                                          "; use e.g. \"dtmi:dtdl:context;3\""});
    return false;
  }
  bool ok = true;
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) {
      problems.push_back({"badContext", "every value in @context must be a string, but one is " +
                                            std::string(json::kind_name(e))});
      ok = false;
      continue;
    }
    out.emplace_back(e.get_string());
  }
  return ok;
}

}  // namespace

bool merge_context(const json::value& v, const ActiveContext* parent, ActiveContext& out,
                   std::vector<ContextProblem>& problems) {
  std::vector<std::string> values;
  if (!collect_strings(v, values, problems)) return false;

  bool ok = true;
  int version = 0;
  int dtdl_index = -1;       // last DTDL context (or limitless core) in this member
  int first_extension = -1;  // first extension context
  bool onvif = false;
  std::vector<Parsed> kinds;
  for (const std::string& s : values) kinds.push_back(classify(s));
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string& s = values[i];
    const int at = static_cast<int>(i);
    switch (kinds[i].kind) {
      case Entry::dtdl:
        version = kinds[i].version;
        dtdl_index = at;
        break;
      case Entry::limitless:
        version = 4;
        dtdl_index = at;
        if (first_extension >= 0 && first_extension < at) {
          problems.push_back({"badContextOrder", "'" + s + "' must come before extension contexts"});
          ok = false;
        }
        if (i + 1 >= values.size() || (kinds[i + 1].kind != Entry::core_limits &&
                                       kinds[i + 1].kind != Entry::limit_extension &&
                                       !(kinds[i + 1].kind == Entry::dtdl && kinds[i + 1].version == 4))) {
          problems.push_back({"missingLimits", "'" + s + "' must be followed directly by limits: "
                                               "\"dtmi:dtdl:context;4#limits\" or a limit extension"});
          ok = false;
        }
        break;
      case Entry::core_limits:
      case Entry::limit_extension:
        if (i == 0 || kinds[i - 1].kind != Entry::limitless) {
          problems.push_back({"badContextOrder", "'" + s + "' must directly follow "
                                                 "\"dtmi:dtdl:context;4#limitless\""});
          ok = false;
        }
        if (kinds[i].kind == Entry::limit_extension) onvif = true;
        break;
      case Entry::unsupported:
        problems.push_back({"unsupportedContextVersion",
                            "@context value '" + s +
                                "' names a DTDL version Castor does not support; use "
                                "dtmi:dtdl:context;2, ;3 or ;4"});
        ok = false;
        break;
      case Entry::bad_fragment:
        problems.push_back({"badContext", "@context value '" + s +
                                              "': only DTDL v4 has the #limitless and #limits contexts"});
        ok = false;
        break;
      case Entry::bad:
        problems.push_back({"badContext", "@context value '" + s +
                                              "' is not a DTMI with a version number; extension "
                                              "contexts look like dtmi:example:extension;1"});
        ok = false;
        break;
      case Entry::extension:
        if (first_extension < 0) first_extension = at;
        break;
    }
  }
  if (dtdl_index >= 0 && first_extension >= 0 && first_extension < dtdl_index) {
    bool iotc_exception = version == 2;
    for (int i = first_extension; i < dtdl_index && iotc_exception; ++i)
      if (values[static_cast<std::size_t>(i)] != "dtmi:iotcentral:context;2") iotc_exception = false;
    if (!iotc_exception) {
      problems.push_back({"badContextOrder", "the DTDL context '" + values[static_cast<std::size_t>(dtdl_index)] +
                                                 "' must come before extension contexts in @context"});
      ok = false;
    }
  }
  if (!ok) return false;

  // Combine: a value overrides any inherited value with the same de-versioned form.
  out = parent ? *parent : ActiveContext{};
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (kinds[i].kind != Entry::extension && kinds[i].kind != Entry::dtdl) continue;
    std::string_view base = deversioned(values[i]);
    std::erase_if(out.entries, [&](const std::string& e) { return deversioned(e) == base; });
    out.entries.push_back(values[i]);
  }
  if (version) {
    out.version = version;
    out.onvif_limits = onvif;
    std::erase_if(out.entries, [](const std::string& e) { return e.rfind(kDtdlPrefix, 0) == 0; });
    out.entries.insert(out.entries.begin(), std::string(kDtdlPrefix) + std::to_string(version));
  }
  out.extensions.clear();
  out.undefined_extension = false;
  for (const std::string& s : out.entries) {
    if (classify(s).kind != Entry::extension) continue;
    if (const Extension* e = find_extension(s, out.version)) {
      out.extensions.push_back(e);
    } else {
      out.undefined_extension = true;
    }
  }
  return true;
}

}  // namespace castor::model
