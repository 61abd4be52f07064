// Tunables of a Store, each with its default and what it trades. The defaults suit one castor
// process per machine serving the reference factory; nothing here changes what is durable except
// `durability`.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "store/types.hpp"

namespace castor::store {

struct StoreOptions {
  // --- durability and group commit ---

  // Default strict: every acknowledged commit is fsync'd (survives power loss). relaxed skips the
  // per-group fsync for throughput and survives only a castor crash, see Durability.
  Durability durability = Durability::strict;

  // relaxed only. Default 100 ms: the longest acknowledged writes stay unsynced, i.e. the most an
  // OS crash or power loss can lose. Shorter costs more fsyncs; zero never syncs in the background.
  std::chrono::milliseconds relaxed_sync_interval{100};

  // Default 4096: batches accepted and not yet written. A submitter beyond it is refused
  // (Code::resource_exhausted) instead of growing memory; larger absorbs longer bursts.
  std::size_t max_pending_batches = 4096;

  // Default 64 MiB: bytes of batches accepted and not yet written; the second backpressure bound,
  // because batch sizes vary. A single batch larger than this is refused as invalid_argument.
  std::size_t max_pending_bytes = std::size_t{64} << 20;

  // Default 1024: most batches merged into one write. Larger amortizes an fsync over more
  // batches; smaller bounds how long the first batch of a group waits for the last.
  std::size_t max_group_batches = 1024;

  // Default 8 MiB: most bytes merged into one write (a single larger batch is still written
  // alone). Same trade as max_group_batches, measured in bytes.
  std::size_t max_group_bytes = std::size_t{8} << 20;

  // --- on-disk layout and memory ---

  // Default true: create the directory and the database when missing. false makes open fail with
  // not_found, for tools that must never create an empty store by accident.
  bool create_if_missing = true;

  // Default 256 MiB, shared by all column families: cached data blocks. Larger serves more reads
  // from memory at the cost of resident memory.
  std::size_t block_cache_bytes = std::size_t{256} << 20;

  // Default 64 MiB per column family: the in-memory write buffer (memtable) before a flush.
  // Larger means fewer, bigger flushes and less write amplification, but more memory.
  std::size_t write_buffer_bytes = std::size_t{64} << 20;

  // Default 256 MiB: write-ahead log kept before memtables are flushed to make room. It bounds
  // the log replayed at restart, i.e. recovery time, at the cost of more frequent flushes.
  std::size_t max_wal_bytes = std::size_t{256} << 20;

  // Default 10: bloom filter bits per key (~1% false positives). Saves disk reads for keys that
  // do not exist at ~1.25 bytes of memory per key; 0 disables filters.
  int bloom_bits_per_key = 10;

  // Default 2: background flush and compaction threads. More keeps compaction up with heavy
  // writes; each competes with the shard threads for a core.
  int background_jobs = 2;

  // Default none: column families whose memtable is an unsorted vector (RocksDB's VectorRep)
  // instead of a skip list. An insert then costs an append instead of a search through every
  // version in the memtable, which dominates write-heavy families; a point read of the family's
  // live memtable must copy and sort it, so list only families read through scans at start-up
  // (the twins), never families served by get()/multi_get().
  std::vector<std::string> unsorted_memtable_families;

  // Default 128 KiB: zeros written ahead of the write-ahead log's end, one step at a time, so
  // that a commit's fdatasync rewrites existing blocks and has no file size to journal (on ext4
  // that journal commit waits for a kernel thread, and on a busy machine for a free core). The
  // sync after a step also writes the step's zeros back: small steps keep that pause short (1 MiB
  // steps doubled the p99 of durable PATCHes at 16 connections). A crash leaves zeros after the
  // last record, which recovery skips. 0 turns it off.
  std::size_t wal_zero_ahead_bytes = std::size_t{128} << 10;

  // Default true: LZ4 for most levels, ZSTD for the last (when the library has them). Saves disk
  // and cache space for CPU time on flush, compaction and uncached reads.
  bool compression = true;
};

}  // namespace castor::store
