#include "common/status.hpp"

#include <gtest/gtest.h>

namespace castor {

Result<int> half(int x) {
  if (x % 2) return invalid_argument("odd number " + std::to_string(x) + "; pass an even one");
  return x / 2;
}

Status chain(int x) {
  CASTOR_RETURN_IF_ERROR(half(x).status());
  return Status::ok();
}

TEST(Status, CarriesCodeAndSentence) {
  auto r = half(3);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::invalid_argument);
  EXPECT_EQ(r.status().to_string(), "invalid_argument: odd number 3; pass an even one");
  EXPECT_EQ(*half(8), 4);
  EXPECT_TRUE(half(8).status().is_ok());
  EXPECT_EQ(chain(5).code(), Code::invalid_argument);
  EXPECT_TRUE(chain(4).is_ok());
}

}  // namespace castor
