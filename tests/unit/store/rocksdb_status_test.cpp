// The sentences a user reads when the disk, the directory or another process gets in the way.
// Disk-full and corruption cannot be produced cheaply for real, so RocksDB's statuses are fed in.
#include "store/impl/rocksdb_status.hpp"

#include <gtest/gtest.h>
#include <rocksdb/status.h>

namespace castor::store::impl {
namespace {

bool says(const Status& s, std::string_view text) {
  return s.message().find(text) != std::string::npos;
}

TEST(RocksdbStatus, OkStaysOk) {
  EXPECT_TRUE(to_status(rocksdb::Status::OK(), "x", "/d").is_ok());
}

TEST(RocksdbStatus, DiskFullSaysSoAndWhatToDo) {
  const Status s = to_status(rocksdb::Status::NoSpace("While appending to file", "/d/000012.log"),
                             "writing a commit group", "/d");
  EXPECT_EQ(s.code(), Code::resource_exhausted);
  EXPECT_TRUE(says(s, "the disk holding /d is full while writing a commit group")) << s.message();
  EXPECT_TRUE(says(s, "free space on it or move --data to a larger disk")) << s.message();
}

TEST(RocksdbStatus, LockHeldByAnotherProcessNamesTheDirectory) {
  const Status s = to_status(
      rocksdb::Status::IOError("While lock file: /d/LOCK", "Resource temporarily unavailable"),
      "opening it", "/d");
  EXPECT_EQ(s.code(), Code::unavailable);
  EXPECT_EQ(s.message(), "another castor process is using /d; stop it or choose another --data");
}

TEST(RocksdbStatus, CorruptionAndPermissionsAreTellable) {
  const Status corrupt = to_status(rocksdb::Status::Corruption("bad block"), "reading", "/d");
  EXPECT_EQ(corrupt.code(), Code::internal);
  EXPECT_TRUE(says(corrupt, "the data in /d is corrupted while reading")) << corrupt.message();
  EXPECT_TRUE(says(corrupt, "bad block"));
  const Status denied =
      to_status(rocksdb::Status::IOError("While open a file", "/d/CURRENT: Permission denied"),
                "opening it", "/d");
  EXPECT_EQ(denied.code(), Code::permission_denied);
  EXPECT_TRUE(says(denied, "give the castor user write access")) << denied.message();
}

}  // namespace
}  // namespace castor::store::impl
