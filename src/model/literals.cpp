#include "model/literals.hpp"

namespace castor::model {
namespace {

enum class Literal { string, integer, boolean };

const char* literal_name(Literal k) {
  return k == Literal::string ? "string" : k == Literal::integer ? "integer" : "boolean";
}

bool type_matches(std::string_view t, Literal k) {
  switch (k) {
    case Literal::string:
      return t == "xsd:string" || t == "http://www.w3.org/2001/XMLSchema#string";
    case Literal::integer:
      return t == "xsd:integer" || t == "http://www.w3.org/2001/XMLSchema#integer";
    case Literal::boolean:
      return t == "xsd:boolean" || t == "http://www.w3.org/2001/XMLSchema#boolean";
  }
  return false;
}

bool bare_matches(const json::value& v, Literal k) {
  long long i = 0;
  switch (k) {
    case Literal::string: return v.is_string();
    case Literal::integer: return json::as_int64(v, i) && i >= INT32_MIN && i <= INT32_MAX;
    case Literal::boolean: return v.is_bool();
  }
  return false;
}

// Validates a value object {"@value": ..., "@type": ...}; returns the @value on success.
const json::value* value_object(const json::object& o, int version, Literal k, LiteralProblem& p) {
  const json::value* value = nullptr;
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    if (key.empty() || key.front() != '@') {
      p = {"badLiteral", "a value object may only have members starting with '@', but it has '" +
                             std::string(key) + "'"};
      return nullptr;
    }
    if (key == "@value") {
      value = &kv.value();
    } else if (key == "@type") {
      const json::value* t = &kv.value();
      if (t->is_array() && t->get_array().size() == 1) t = &t->get_array()[0];
      if (!t->is_string() || !type_matches(json::sv(t->get_string()), k)) {
        p = {"badLiteral", std::string("@type of a ") + literal_name(k) +
                               " value object must be \"xsd:" + literal_name(k) + "\""};
        return nullptr;
      }
    } else if (version >= 3 || key == "@id" || key == "@context" || key == "@graph") {
      p = {"badLiteral", "a value object may only have @value and @type, not '" +
                             std::string(key) + "'"};
      return nullptr;
    }
  }
  if (!value) {
    p = {"badLiteral", "a value object needs an @value member"};
    return nullptr;
  }
  if (!bare_matches(*value, k)) {
    p = {"badLiteral", std::string("@value must be ") + (k == Literal::integer ? "an " : "a ") +
                           literal_name(k)};
    return nullptr;
  }
  return value;
}

// Object values are value objects ({"@value": ...}); say so when the object is something else.
const json::value* value_object_or_hint(const json::object& o, int version, Literal k, LiteralProblem& p) {
  bool keyword_only = true;
  for (const auto& kv : o) keyword_only = keyword_only && !kv.key().empty() && kv.key().front() == '@';
  if (!keyword_only) {
    p = {"badLiteral", std::string("value must be a ") + literal_name(k) +
                           " (an object is only accepted as {\"@value\": ...}; language maps are for "
                           "displayName and description)"};
    return nullptr;
  }
  return value_object(o, version, k, p);
}

const json::value* read_literal(const json::value& v, int version, Literal k, LiteralProblem& p) {
  if (bare_matches(v, k)) return &v;
  if (v.is_object()) return value_object_or_hint(v.get_object(), version, k, p);
  p = {"badLiteral", std::string("value must be ") + (k == Literal::integer ? "an " : "a ") +
                         literal_name(k) + ", but it is " + std::string(json::kind_name(v))};
  return nullptr;
}



bool check_length(std::string_view s, std::size_t max_length, LiteralProblem& p) {
  if (max_length && utf8_length(s) > max_length) {
    p = {"stringTooLong", "text is " + std::to_string(utf8_length(s)) +
                              " characters long; the limit is " + std::to_string(max_length)};
    return false;
  }
  return true;
}

bool tagged_value(const json::object& o, int version, std::size_t max_length, LangString& out,
                  LiteralProblem& p) {
  const json::value* value = nullptr;
  const json::value* lang = nullptr;
  for (const auto& kv : o) {
    std::string_view key(kv.key().data(), kv.key().size());
    if (key.empty() || key.front() != '@') {
      p = {"badLanguageString", "a language-tagged value may only have @value and @language, not '" +
                                    std::string(key) + "'"};
      return false;
    }
    if (key == "@value") {
      value = &kv.value();
    } else if (key == "@language") {
      lang = &kv.value();
    } else if (version >= 3 || key == "@id" || key == "@context" || key == "@graph") {
      p = {"badLanguageString", "a language-tagged value may only have @value and @language, not '" +
                                    std::string(key) + "'"};
      return false;
    }
  }
  if (!value || !value->is_string()) {
    p = {"badLanguageString", "a language-tagged value needs a string @value"};
    return false;
  }
  std::string code;
  if (lang) {
    if (!lang->is_string() || !is_language_code(std::string_view(lang->get_string()))) {
      p = {"badLanguageCode", "@language must be a language code like \"en\" or \"en-US\""};
      return false;
    }
    code = std::string(lang->get_string());
  }
  for (const auto& [l, t] : out) {
    if (!code.empty() && l == code) {
      p = {"duplicateLanguage", "language '" + code + "' appears more than once"};
      return false;
    }
  }
  std::string text(value->get_string());
  if (!check_length(text, max_length, p)) return false;
  out.emplace_back(code, std::move(text));
  return true;
}

bool is_default(const std::string& lang) { return lang.empty() || lang == "en"; }

}  // namespace

std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

bool is_language_code(std::string_view s) noexcept {
  // ^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$
  std::size_t i = 0;
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < s.size() && lower(s[i])) ++i;
  if (i < 2 || i > 4) return false;
  if (i + 5 <= s.size() && s[i] == '-' && upper(s[i + 1]) && lower(s[i + 2]) && lower(s[i + 3]) &&
      lower(s[i + 4]) && (i + 5 == s.size() || s[i + 5] == '-'))
    i += 5;
  if (i == s.size()) return true;
  if (s[i] != '-') return false;
  std::string_view region = s.substr(i + 1);
  if (region.size() == 2) return upper(region[0]) && upper(region[1]);
  if (region.size() == 3) return digit(region[0]) && digit(region[1]) && digit(region[2]);
  return false;
}

bool is_dtdl_name(std::string_view s) noexcept {
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.empty() || !alpha(s.front()) || s.back() == '_') return false;
  for (char c : s)
    if (!alpha(c) && !digit(c) && c != '_') return false;
  return true;
}

bool read_string(const json::value& v, int version, std::string& out, LiteralProblem& p) {
  const json::value* x = read_literal(v, version, Literal::string, p);
  if (!x) return false;
  out = std::string(x->get_string());
  return true;
}

bool read_integer(const json::value& v, int version, long long& out, LiteralProblem& p) {
  const json::value* x = read_literal(v, version, Literal::integer, p);
  return x && json::as_int64(*x, out);
}

bool read_boolean(const json::value& v, int version, bool& out, LiteralProblem& p) {
  const json::value* x = read_literal(v, version, Literal::boolean, p);
  if (!x) return false;
  out = x->get_bool();
  return true;
}

bool read_lang_string(const json::value& v, int version, std::size_t max_length, LangString& out,
                      LiteralProblem& p) {
  out.clear();
  if (v.is_string()) {
    out.emplace_back("", std::string(v.get_string()));
    return check_length(out.back().second, max_length, p);
  }
  if (v.is_object()) {  // a language map
    for (const auto& kv : v.get_object()) {
      std::string_view key(kv.key().data(), kv.key().size());
      if (!is_language_code(key)) {
        p = {"badLanguageCode", "'" + std::string(key) +
                                    "' is not a language code; a language map looks like "
                                    "{\"en\": \"text\", \"de\": \"Text\"}"};
        return false;
      }
      if (!kv.value().is_string()) {
        p = {"badLanguageString", "language map value for '" + std::string(key) + "' must be a string"};
        return false;
      }
      if (!check_length(std::string_view(kv.value().get_string()), max_length, p)) return false;
      out.emplace_back(std::string(key), std::string(kv.value().get_string()));
    }
    return true;
  }
  if (!v.is_array()) {
    p = {"badLanguageString", "a localizable string must be a string, an array or a language map, "
                              "but it is " + std::string(json::kind_name(v))};
    return false;
  }
  int defaults = 0;
  for (const auto& item : v.get_array()) {
    if (item.is_string()) {
      out.emplace_back("", std::string(item.get_string()));
      if (!check_length(out.back().second, max_length, p)) return false;
    } else if (item.is_object()) {
      if (!tagged_value(item.get_object(), version, max_length, out, p)) return false;
    } else {
      p = {"badLanguageString", "each value of a localizable string array must be a string or "
                                "an object with @value"};
      return false;
    }
    if (is_default(out.back().first) && ++defaults > 1) {
      p = {"duplicateLanguage", "a localizable string has more than one default-language value "
                                "(plain strings, untagged values and \"en\" count as default)"};
      return false;
    }
  }
  return true;
}

}  // namespace castor::model
