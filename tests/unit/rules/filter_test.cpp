// The route filter language: the declarative corpus (filter_cases.txt) plus limits and
// robustness against arbitrary input.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "rules/filter_ast.hpp"
#include "rules/route_filter.hpp"

namespace castor::rules {
namespace {

struct Event {
  CloudEvent event;
  json::value data;
};

Event event_from_json(const std::string& text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.is_ok()) << text;
  Event e;
  for (const auto& kv : v->get_object()) {
    std::string key(json::sv(kv.key()));
    if (key == "data") {
      e.data = kv.value();
      e.event.data = json::serialize(kv.value());
      continue;
    }
    std::string value(json::sv(kv.value().get_string()));
    if (key == "id") e.event.id = value;
    if (key == "source") e.event.source = value;
    if (key == "type") e.event.type = value;
    if (key == "subject") e.event.subject = value;
    if (key == "dataschema") e.event.dataschema = value;
    if (key == "time") e.event.time = value;
  }
  return e;
}

struct Corpus {
  std::vector<std::pair<std::string, Event>> events;  // in file order
  struct Match {
    int line;
    std::string filter;
    std::set<std::string> expect;
  };
  struct Error {
    int line;
    std::string filter;
    int position;
    std::string phrase;
  };
  std::vector<Match> matches;
  std::vector<Error> errors;
};

std::string rest(const std::string& line, std::size_t keyword) {
  return line.size() > keyword ? line.substr(keyword + 1) : std::string();
}

Corpus read_corpus() {
  std::ifstream in(std::string(CASTOR_SOURCE_DIR) + "/tests/unit/rules/filter_cases.txt");
  EXPECT_TRUE(in.good());
  Corpus c;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    if (line.starts_with("event ")) {
      auto space = line.find(' ', 6);
      c.events.emplace_back(line.substr(6, space - 6), event_from_json(line.substr(space + 1)));
    } else if (line.starts_with("match ")) {
      c.matches.push_back({n, rest(line, 5), {}});
      std::getline(in, line);
      ++n;
      EXPECT_TRUE(line.starts_with("expect")) << "line " << n;
      std::istringstream words(rest(line, 6));
      for (std::string w; words >> w;)
        if (w != "none") c.matches.back().expect.insert(w);
    } else if (line == "error" || line.starts_with("error ")) {
      std::string filter = rest(line, 5);
      std::getline(in, line);
      ++n;
      EXPECT_TRUE(line.starts_with("at ")) << "line " << n;
      std::istringstream at(line.substr(3));
      int position = 0;
      at >> position;
      std::string phrase;
      std::getline(at >> std::ws, phrase);
      c.errors.push_back({n - 1, filter, position, phrase});
    } else {
      ADD_FAILURE() << "filter_cases.txt line " << n << ": cannot read '" << line << "'";
    }
  }
  return c;
}

TEST(FilterCorpus, EveryFilterMatchesExactlyTheExpectedEvents) {
  Corpus c = read_corpus();
  ASSERT_GE(c.events.size(), 6u);
  ASSERT_GE(c.matches.size(), 60u);
  for (const auto& m : c.matches) {
    auto f = RouteFilter::parse(m.filter);
    ASSERT_TRUE(f.is_ok()) << "line " << m.line << ": " << m.filter << ": " << f.status().message();
    std::set<std::string> got;
    for (const auto& [name, e] : c.events)
      if (f->matches(e.event, &e.data)) got.insert(name);
    EXPECT_EQ(got, m.expect) << "filter_cases.txt line " << m.line << ": " << m.filter;
  }
}

TEST(FilterCorpus, EveryBadFilterIsRejectedWithItsPositionAndAReason) {
  Corpus c = read_corpus();
  ASSERT_GE(c.errors.size(), 30u);
  for (const auto& e : c.errors) {
    auto f = RouteFilter::parse(e.filter);
    ASSERT_FALSE(f.is_ok()) << "line " << e.line << ": '" << e.filter << "' was accepted";
    EXPECT_EQ(f.status().reason(), "EventRouteFilterInvalid");
    const std::string& m = f.status().message();
    EXPECT_NE(m.find("at position " + std::to_string(e.position) + ":"), std::string::npos)
        << "line " << e.line << ": " << m;
    EXPECT_NE(m.find(e.phrase), std::string::npos) << "line " << e.line << ": " << m;
  }
}

TEST(Filter, WhitespaceOnlyIsEmpty) {
  auto f = RouteFilter::parse(" \t\n ");
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("empty; use 'true'"), std::string::npos);
}

TEST(Filter, BodyIsReadOnlyWhenTheFilterNeedsIt) {
  EXPECT_FALSE(RouteFilter::parse("type = 'x' OR subject = 'y'")->reads_body());
  EXPECT_TRUE(RouteFilter::parse("$body.a = 1")->reads_body());
  CloudEvent e;
  e.type = "x";
  EXPECT_TRUE(RouteFilter::parse("type = 'x'")->matches(e, nullptr));
  EXPECT_FALSE(RouteFilter::parse("$body.a = 1")->matches(e, nullptr));  // data that is not JSON
  EXPECT_TRUE(RouteFilter::parse("NOT IS_DEFINED($body.a)")->matches(e, nullptr));
}

TEST(Filter, DeepNestingIsRejectedNotRecursedInto) {
  std::string deep(100000, '(');
  auto f = RouteFilter::parse(deep.substr(0, filter::kMaxLength));
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("nested more than 32 deep"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 40; ++i) nots += "NOT ";
  EXPECT_FALSE(RouteFilter::parse(nots + "true").is_ok());
  std::string ok = std::string(32, '(') + "true" + std::string(32, ')');
  EXPECT_TRUE(RouteFilter::parse(ok).is_ok());
}

TEST(Filter, SizeLimitsAreEnforced) {
  std::string chain = "true";
  for (int i = 0; i < 400; ++i) chain += " OR id=1";
  ASSERT_LE(chain.size(), filter::kMaxLength);
  auto f = RouteFilter::parse(chain);
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("more than 1024 terms"), std::string::npos);
  auto long_text = RouteFilter::parse("subject = '" + std::string(9000, 'a') + "'");
  ASSERT_FALSE(long_text.is_ok());
  EXPECT_NE(long_text.status().message().find("longer than 8192 bytes"), std::string::npos);
  std::string path = "$body";
  for (int i = 0; i < 40; ++i) path += ".a";
  EXPECT_FALSE(RouteFilter::parse(path + " = 1").is_ok());
}

TEST(Filter, LongFlatChainsEvaluate) {
  std::string chain = "false";
  for (int i = 0; i < 300; ++i) chain += " OR subject = 's" + std::to_string(i) + "'";
  auto f = RouteFilter::parse(chain);
  ASSERT_TRUE(f.is_ok()) << f.status().message();
  CloudEvent e;
  e.subject = "s299";
  EXPECT_TRUE(f->matches(e, nullptr));
  e.subject = "s300";
  EXPECT_FALSE(f->matches(e, nullptr));
}

// Random bytes and random token soup: parsing never crashes, and whatever parses evaluates.
TEST(Filter, ArbitraryInputNeverCrashes) {
  const std::vector<std::string> pieces = {
      "type",       "subject", "$body", ".",  "a",      "[",    "]",     "'x'",  "\"y\"",
      "(",          ")",       "AND",   "OR", "NOT",    "=",    "!=",    "<>",   "<",
      "<=",         ">",       ">=",    "1",  "-2.5e3", "true", "false", "null", "STARTS_WITH",
      "IS_DEFINED", ",",       "data",  "'",  "\\",     "é",    " ",     "$",    "9e999"};
  std::mt19937 rng(20240501);
  CloudEvent e;
  e.type = "t";
  e.subject = "s";
  auto data = json::parse(R"({"a":{"a":[1,2],"b":"x"},"x":null})");
  ASSERT_TRUE(data.is_ok());
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    int n = static_cast<int>(rng() % 24);
    for (int j = 0; j < n; ++j) {
      if (i % 3 == 0)
        text += static_cast<char>(rng() % 256);
      else
        text += pieces[rng() % pieces.size()] + (rng() % 2 ? " " : "");
    }
    auto f = RouteFilter::parse(text);
    if (!f) {
      EXPECT_EQ(f.status().reason(), "EventRouteFilterInvalid");
      continue;
    }
    ++accepted;
    (void)f->matches(e, &*data);
    (void)f->matches(e, nullptr);
  }
  EXPECT_GT(accepted, 20);  // some soup parses, so evaluation runs too
}

}  // namespace
}  // namespace castor::rules
