#include "model/dtmi.hpp"

#include <gtest/gtest.h>

#include "model/instance_validator.hpp"
#include "model/literals.hpp"

namespace castor::model {

TEST(Dtmi, SyntaxPerVersion) {
  EXPECT_TRUE(is_dtmi("dtmi:com:example:Thermostat;1", 2));
  EXPECT_FALSE(is_dtmi("dtmi:com:example:Thermostat", 2));  // v2 needs a version
  EXPECT_TRUE(is_dtmi("dtmi:com:example:Thermostat", 3));
  EXPECT_TRUE(is_dtmi("dtmi:com:example:Thermostat;1.2", 3));
  EXPECT_FALSE(is_dtmi("dtmi:com:example:Thermostat;1.2", 2));
  EXPECT_FALSE(is_dtmi("dtmi:com:example:Thermostat;0", 3));
  EXPECT_FALSE(is_dtmi("dtmi:com:example:Thermostat;01", 3));
  EXPECT_FALSE(is_dtmi("dtmi:com:example:Thermostat;1234567890", 3));
  EXPECT_FALSE(is_dtmi("dtmi:com:example_:Thermostat;1", 3));
  EXPECT_FALSE(is_dtmi("dtmi:com::Thermostat;1", 3));
  EXPECT_FALSE(is_dtmi("dtmi:1com:Thermostat;1", 3));
  EXPECT_FALSE(is_dtmi("urn:com:Thermostat;1", 3));
  EXPECT_EQ(deversioned("dtmi:ex:foo;3"), "dtmi:ex:foo");
  EXPECT_TRUE(has_reserved_prefix("dtmi:dtdl:foo;1"));
  EXPECT_TRUE(has_reserved_prefix("dtmi:standard:foo;1"));
  EXPECT_FALSE(has_reserved_prefix("dtmi:dtdlx:foo;1"));
}

TEST(Formats, DatesTimesDurations) {
  EXPECT_TRUE(is_rfc3339_date("2024-02-29"));
  EXPECT_FALSE(is_rfc3339_date("2023-02-29"));
  EXPECT_FALSE(is_rfc3339_date("2023-13-01"));
  EXPECT_TRUE(is_rfc3339_datetime("2026-11-24T10:00:00Z"));
  EXPECT_TRUE(is_rfc3339_datetime("2026-11-24T10:00:00.123456+01:00"));
  EXPECT_FALSE(is_rfc3339_datetime("2026-11-24 10:00:00Z"));
  EXPECT_FALSE(is_rfc3339_datetime("2026-11-24T25:00:00Z"));
  EXPECT_FALSE(is_rfc3339_datetime("2026-11-24T10:00:00"));
  EXPECT_TRUE(is_rfc3339_time("10:00:00"));
  EXPECT_TRUE(is_rfc3339_time("10:00:00.5Z"));
  EXPECT_FALSE(is_rfc3339_time("10:00"));
  EXPECT_TRUE(is_iso8601_duration("P1Y2M3DT4H5M6.5S"));
  EXPECT_TRUE(is_iso8601_duration("PT0S"));
  EXPECT_TRUE(is_iso8601_duration("P2W"));
  EXPECT_FALSE(is_iso8601_duration("P"));
  EXPECT_FALSE(is_iso8601_duration("PT"));
  EXPECT_FALSE(is_iso8601_duration("P1H"));
  EXPECT_FALSE(is_iso8601_duration("PT1D"));
  EXPECT_FALSE(is_iso8601_duration("P1M1Y"));
}

TEST(Literals, LanguageCodesAndNames) {
  EXPECT_TRUE(is_language_code("en"));
  EXPECT_TRUE(is_language_code("en-US"));
  EXPECT_TRUE(is_language_code("zh-Hant-TW"));
  EXPECT_TRUE(is_language_code("es-419"));
  EXPECT_FALSE(is_language_code("EN"));
  EXPECT_FALSE(is_language_code("e"));
  EXPECT_FALSE(is_language_code("en-us"));
  EXPECT_TRUE(is_dtdl_name("a"));
  EXPECT_TRUE(is_dtdl_name("motor_Current1"));
  EXPECT_FALSE(is_dtdl_name("_a"));
  EXPECT_FALSE(is_dtdl_name("a_"));
  EXPECT_FALSE(is_dtdl_name("1a"));
  EXPECT_FALSE(is_dtdl_name("a-b"));
  EXPECT_EQ(utf8_length("héllo"), 5u);
}

}  // namespace castor::model
