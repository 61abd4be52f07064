#include "store/types.hpp"

#include <rocksdb/db.h>

namespace castor::store {

const std::string& ColumnFamily::name() const {
  static const std::string kNone;
  return handle_ ? handle_->GetName() : kNone;
}

}  // namespace castor::store
