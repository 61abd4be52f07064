#include "query/keywords.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace castor::query {
namespace {

struct KeywordEntry {
  std::string_view upper;
  Keyword keyword;
  bool reserved;
};

// Sorted by spelling for binary search.
constexpr std::array kKeywords = {
    KeywordEntry{"ALL", Keyword::all, true},
    KeywordEntry{"AND", Keyword::and_, true},
    KeywordEntry{"AS", Keyword::as, true},
    KeywordEntry{"ASC", Keyword::asc, true},
    KeywordEntry{"AVG", Keyword::avg, true},
    KeywordEntry{"BY", Keyword::by, true},
    KeywordEntry{"COUNT", Keyword::count, true},
    KeywordEntry{"DESC", Keyword::desc, true},
    KeywordEntry{"DEVICES", Keyword::devices, true},
    KeywordEntry{"DEVICES_JOBS", Keyword::devices_jobs, true},
    KeywordEntry{"DEVICES_MODULES", Keyword::devices_modules, true},
    KeywordEntry{"DIGITALTWINS", Keyword::digitaltwins, false},
    KeywordEntry{"ENDS_WITH", Keyword::ends_with, true},
    KeywordEntry{"EXACT", Keyword::exact, false},
    KeywordEntry{"FALSE", Keyword::false_, true},
    KeywordEntry{"FROM", Keyword::from, true},
    KeywordEntry{"GROUP", Keyword::group, true},
    KeywordEntry{"IN", Keyword::in, true},
    KeywordEntry{"IS_BOOL", Keyword::is_bool, true},
    KeywordEntry{"IS_DEFINED", Keyword::is_defined, true},
    KeywordEntry{"IS_NULL", Keyword::is_null, true},
    KeywordEntry{"IS_NUMBER", Keyword::is_number, true},
    KeywordEntry{"IS_OBJECT", Keyword::is_object, true},
    KeywordEntry{"IS_OF_MODEL", Keyword::is_of_model, true},
    KeywordEntry{"IS_PRIMITIVE", Keyword::is_primitive, true},
    KeywordEntry{"IS_STRING", Keyword::is_string, true},
    KeywordEntry{"JOIN", Keyword::join, false},
    KeywordEntry{"MATCH", Keyword::match, false},
    KeywordEntry{"MAX", Keyword::max, true},
    KeywordEntry{"MIN", Keyword::min, true},
    KeywordEntry{"NIN", Keyword::nin, false},
    KeywordEntry{"NOT", Keyword::not_, true},
    KeywordEntry{"NOT_IN", Keyword::not_in, true},
    KeywordEntry{"NULL", Keyword::null_, true},
    KeywordEntry{"OR", Keyword::or_, true},
    KeywordEntry{"ORDER", Keyword::order, true},
    KeywordEntry{"RELATED", Keyword::related, false},
    KeywordEntry{"RELATIONSHIPS", Keyword::relationships, false},
    KeywordEntry{"SELECT", Keyword::select, true},
    KeywordEntry{"STARTS_WITH", Keyword::starts_with, true},
    KeywordEntry{"SUM", Keyword::sum, true},
    KeywordEntry{"TOP", Keyword::top, true},
    KeywordEntry{"TRUE", Keyword::true_, true},
    KeywordEntry{"WHERE", Keyword::where, true},
};

struct FunctionEntry {
  std::string_view upper;
  Function function;
};

// Sorted by spelling; exactly the functions of reference-query-functions.md.
constexpr std::array kFunctions = {
    FunctionEntry{"ARRAY_CONTAINS", Function::array_contains},
    FunctionEntry{"CONTAINS", Function::contains},
    FunctionEntry{"ENDSWITH", Function::endswith},
    FunctionEntry{"IS_BOOL", Function::is_bool},
    FunctionEntry{"IS_DEFINED", Function::is_defined},
    FunctionEntry{"IS_NULL", Function::is_null},
    FunctionEntry{"IS_NUMBER", Function::is_number},
    FunctionEntry{"IS_OBJECT", Function::is_object},
    FunctionEntry{"IS_OF_MODEL", Function::is_of_model},
    FunctionEntry{"IS_PRIMITIVE", Function::is_primitive},
    FunctionEntry{"IS_STRING", Function::is_string},
    FunctionEntry{"STARTSWITH", Function::startswith},
};

constexpr bool sorted_by_spelling(const auto& table) {
  return std::is_sorted(table.begin(), table.end(),
                        [](const auto& a, const auto& b) { return a.upper < b.upper; });
}
static_assert(sorted_by_spelling(kKeywords) && sorted_by_spelling(kFunctions),
              "lookup() binary-searches these tables");

constexpr std::size_t kLongestWord = 16;

// Upper-cases `word` into `buffer`; false when it is too long to be any keyword or function.
bool to_upper(std::string_view word, std::array<char, kLongestWord>& buffer,
              std::string_view& out) {
  if (word.size() > buffer.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    buffer[i] = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  out = std::string_view(buffer.data(), word.size());
  return true;
}

template <class Table>
auto lookup(const Table& table, std::string_view word) -> const typename Table::value_type* {
  std::array<char, kLongestWord> buffer{};
  std::string_view upper;
  if (!to_upper(word, buffer, upper)) return nullptr;
  auto it = std::lower_bound(table.begin(), table.end(), upper,
                             [](const auto& e, std::string_view w) { return e.upper < w; });
  return (it != table.end() && it->upper == upper) ? &*it : nullptr;
}

}  // namespace

Keyword find_keyword(std::string_view word) noexcept {
  const KeywordEntry* e = lookup(kKeywords, word);
  return e ? e->keyword : Keyword::none;
}

bool is_reserved(Keyword k) noexcept {
  if (k == Keyword::none) return false;
  for (const auto& e : kKeywords) {
    if (e.keyword == k) return e.reserved;
  }
  return false;
}

bool ends_alias(Keyword k) noexcept {
  return is_reserved(k) || k == Keyword::join || k == Keyword::related || k == Keyword::match;
}

std::optional<Function> find_function(std::string_view word) noexcept {
  const FunctionEntry* e = lookup(kFunctions, word);
  if (!e) return std::nullopt;
  return e->function;
}

std::string_view function_name(Function f) noexcept {
  for (const auto& e : kFunctions) {
    if (e.function == f) return e.upper;
  }
  return "?";
}

bool is_name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) noexcept {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_plain_name(std::string_view name) noexcept {
  if (name.empty() || !is_name_start(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(), is_name_char);
}

bool is_system_name(std::string_view name) noexcept {
  return name.size() > 1 && name[0] == '$' && is_plain_name(name.substr(1));
}

}  // namespace castor::query
