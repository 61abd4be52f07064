#include "store/impl/rocksdb_status.hpp"

#include <rocksdb/status.h>

#include <string>

namespace castor::store::impl {
namespace {

bool contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

// What a failure report needs: the directory, the action ("while ...") and RocksDB's own text.
struct Failure {
  std::string dir;
  std::string where;  // " while <action> (rocksdb: <text>)"
  std::string text;   // RocksDB's text alone, for classification
};

// RocksDB reports a held LOCK file as a plain IOError; only the text tells the cases apart
// (env/fs_posix.cc: "While lock file" from flock, "lock hold by current process" from its own
// table of files this process has locked).
Status lock_error(const Failure& f) {
  if (contains(f.text, "lock hold by current process")) {
    return failed_precondition("this castor process already has " + f.dir +
                               " open; close the other Store before opening it again");
  }
  return {Code::unavailable,
          "another castor process is using " + f.dir + "; stop it or choose another --data"};
}

Status io_error(const rocksdb::Status& s, const Failure& f) {
  if (contains(f.text, "While lock file") || contains(f.text, "lock hold by current process")) {
    return lock_error(f);
  }
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit ||
      contains(f.text, "No space left")) {
    return resource_exhausted("the disk holding " + f.dir + " is full" + f.where +
                              "; free space on it or move --data to a larger disk, then restart");
  }
  if (contains(f.text, "Permission denied") || contains(f.text, "Read-only file system")) {
    return {Code::permission_denied, "castor may not write to " + f.dir + f.where +
                                         "; give the castor user write access or choose "
                                         "another --data"};
  }
  return internal_error("an I/O error hit " + f.dir + f.where +
                        "; check the disk and the system log, then restart castor");
}

}  // namespace

Status to_status(const rocksdb::Status& s, std::string_view action, std::string_view data_dir) {
  if (s.ok()) return Status::ok();
  const std::string text = s.ToString();
  const Failure f{std::string(data_dir),
                  " while " + std::string(action) + " (rocksdb: " + text + ")", text};
  if (s.IsIOError()) return io_error(s, f);
  if (s.IsCorruption()) {
    return internal_error("the data in " + f.dir + " is corrupted" + f.where +
                          "; restore it from a backup, or move it aside to start empty");
  }
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return {Code::unavailable, "the store in " + f.dir + " is busy" + f.where + "; retry"};
  }
  if (s.IsShutdownInProgress() || s.IsAborted()) {
    return {Code::unavailable,
            "the store in " + f.dir + " is shutting down" + f.where + "; restart castor"};
  }
  if (s.IsInvalidArgument() || s.IsNotSupported()) {
    return invalid_argument("the store in " + f.dir + " refused a request" + f.where +
                            "; if another program or a newer castor wrote it, choose another "
                            "--data, otherwise report a castor bug");
  }
  return internal_error("the store in " + f.dir + " failed" + f.where +
                        "; check the log, then restart castor");
}

}  // namespace castor::store::impl
