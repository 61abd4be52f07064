// Aggregates of one series over [from, to) per step, straight from its sealed chunks: the entry
// point range queries call. Combines RangeScan (skips chunks outside the range) with
// BucketAggregator. Never reads a chunk it does not need and never reorders points.
#pragma once

#include <span>

#include "common/status.hpp"
#include "history/bucket_aggregator.hpp"
#include "history/range_scan.hpp"

namespace castor::history {

// `chunks` as for RangeScan::open. String series are refused (invalid_argument): their points
// can be read with RangeScan and counted, but have no numeric aggregates.
Result<AggregateResult> aggregate_range(ValueType type,
                                        std::span<const RangeScan::ChunkBytes> chunks,
                                        const AggregateQuery& query, DecodeOptions options = {});

}  // namespace castor::history
