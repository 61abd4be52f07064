// Hostile input to the DTDL parser: every case must produce a clear error, never a crash or hang.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "model/model_parser.hpp"

namespace castor::model {
namespace {

std::string first_error(std::string_view doc) {
  std::string_view docs[] = {doc};
  ParseResult r = parse_model_set(docs);
  EXPECT_FALSE(r.ok());
  return r.diagnostics.errors().empty() ? "" : r.diagnostics.errors().front().message;
}

TEST(DtdlBadInput, MalformedJson) {
  EXPECT_NE(first_error(R"({"@context": "dtmi:dtdl:context;3", "@id": )").find("invalid JSON"),
            std::string::npos);
}

TEST(DtdlBadInput, ByteOrderMark) {
  std::string doc = "\xEF\xBB\xBF{\"@context\": \"dtmi:dtdl:context;3\", \"@id\": \"dtmi:a:b;1\", \"@type\": \"Interface\"}";
  EXPECT_NE(first_error(doc).find("byte-order mark"), std::string::npos);
}

TEST(DtdlBadInput, NonUtf8Bytes) {
  std::string doc = "{\"@context\": \"dtmi:dtdl:context;3\", \"@id\": \"dtmi:a:b;1\", \"@type\": \"Interface\", \"displayName\": \"\xC0\xAF\"}";
  EXPECT_NE(first_error(doc).find("UTF-8"), std::string::npos);
}

TEST(DtdlBadInput, DuplicateKeys) {
  EXPECT_NE(first_error(R"({"@context": "dtmi:dtdl:context;3", "@id": "dtmi:a:b;1", "@id": "dtmi:a:c;1", "@type": "Interface"})")
                .find("duplicate key \"@id\""),
            std::string::npos);
}

TEST(DtdlBadInput, DeepNestingIsRejectedQuickly) {
  std::string doc = "{\"@context\": \"dtmi:dtdl:context;3\", \"@id\": \"dtmi:a:b;1\", \"@type\": \"Interface\", \"comment\": ";
  doc += std::string(10000, '[');
  doc += std::string(10000, ']');
  doc += "}";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(first_error(doc).find("too deep"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(DtdlBadInput, FiftyMegabyteDocumentIsRefused) {
  std::string doc = "{\"@context\": \"dtmi:dtdl:context;3\", \"@id\": \"dtmi:a:b;1\", \"@type\": \"Interface\", \"comment\": \"";
  doc += std::string(50u << 20, 'x');
  doc += "\"}";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(first_error(doc).find("more than the limit"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(DtdlBadInput, WrongRootTypes) {
  for (std::string_view doc : {"42", "\"dtmi:a:b;1\"", "null", "[1, 2]", "true"})
    EXPECT_FALSE(first_error(doc).empty()) << doc;
}

TEST(DtdlBadInput, ManyErrorsAreBounded) {
  // 5,000 invalid contents: errors are capped and counted, not unbounded.
  std::string doc = "{\"@context\": \"dtmi:dtdl:context;3\", \"@id\": \"dtmi:a:b;1\", \"@type\": \"Interface\", \"contents\": [";
  for (int i = 0; i < 5000; ++i) doc += std::string(i ? "," : "") + "{\"@type\": \"Property\", \"name\": \"_bad\"}";
  doc += "]}";
  std::string_view docs[] = {doc};
  ParseResult r = parse_model_set(docs);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), Diagnostics::kMaxErrors);
  EXPECT_GT(r.diagnostics.dropped(), 0u);
}

}  // namespace
}  // namespace castor::model
