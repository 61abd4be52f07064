#include "history/range_aggregate.hpp"

namespace castor::history {

Result<AggregateResult> aggregate_range(ValueType type,
                                        std::span<const RangeScan::ChunkBytes> chunks,
                                        const AggregateQuery& query, DecodeOptions options) {
  if (type == ValueType::string) {
    return invalid_argument(
        "a string series has no numeric aggregates; read its points or count them instead");
  }
  Result<BucketAggregator> agg = BucketAggregator::create(query);
  if (!agg.is_ok()) return std::move(agg).take_status();
  Result<RangeScan> scan = RangeScan::open(type, chunks, query.from, query.to, options);
  if (!scan.is_ok()) return std::move(scan).take_status();
  for (;;) {
    Result<bool> more = scan->next();
    if (!more.is_ok()) return more.status();
    if (!*more) break;
    CASTOR_RETURN_IF_ERROR(agg->add_sorted(scan->timestamps(), scan->numeric()));
  }
  return std::move(agg).value().finish();
}

}  // namespace castor::history
