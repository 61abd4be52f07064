// Internal to src/store: turns a RocksDB status into a castor::Status whose sentence says what
// happened to the data directory and what the operator should do. It never hides the RocksDB text
// when that text is the only clue.
#pragma once

#include <string_view>

#include "common/status.hpp"

namespace rocksdb {
class Status;
}  // namespace rocksdb

namespace castor::store::impl {

// `action` completes "while ..." (e.g. "opening", "writing a commit group"); `data_dir` is the
// store's directory as the user gave it.
Status to_status(const rocksdb::Status& s, std::string_view action, std::string_view data_dir);

}  // namespace castor::store::impl
