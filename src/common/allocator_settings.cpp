// jemalloc's settings for every executable that links it (castor_allocator in
// cmake/CastorToolchain.cmake): not part of any library, never included, read once by jemalloc at
// start. MALLOC_CONF in the environment still overrides each setting.
//
// dirty_decay_ms: pages freed and not reused go back to the kernel after ~1 s instead of jemalloc's
// default 10 s. Creating or importing twins frees a lot of short-lived memory (encoded records,
// parsed documents); with 10 s those pages stayed in the RSS: 1 M twins measured 738-777 MB at
// creation, with 1 s 687-710 MB (bench/load/twin_scale_bench, docs/benchmarks.md). Steady request
// load reuses its memory through the thread caches and is not affected.

// jemalloc looks this symbol up by name; it must be a C symbol with exactly this name.
extern "C" {
extern const char* const malloc_conf;
const char* const malloc_conf = "dirty_decay_ms:1000";
}
