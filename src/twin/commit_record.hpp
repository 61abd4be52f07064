// CommitRecord: one key-value pair a caller wants durable together with a twin mutation (the API's
// audit line). The shard writes it into the mutation's own store batch, so both become durable in
// the same group commit or neither does. It is never written for a mutation that writes nothing.
#pragma once

#include <atomic>
#include <string>

#include "store/types.hpp"

namespace castor::twin {

struct CommitRecord {
  store::ColumnFamily cf;
  std::string key;
  std::string value;
  // Set on the shard thread when the record joined a batch; the mutation's completion (which
  // runs after that batch's commit) may read it to learn that the record is durable with it.
  std::atomic<bool> written{false};
};

}  // namespace castor::twin
