# Compiler launcher, warnings and sanitizers for Castor's own targets.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

if(CASTOR_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# castor_warnings(target): warnings on and clean in our own code.
function(castor_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                         -Wnon-virtual-dtor -Wno-missing-field-initializers)
endfunction()

# castor_library(name SOURCES ... DEPS ...): one library per source folder (DESIGN.md layers).
function(castor_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(castor_${name} STATIC ${ARG_SOURCES})
  add_library(castor::${name} ALIAS castor_${name})
  target_include_directories(castor_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(castor_${name} PUBLIC ${ARG_DEPS})
  castor_warnings(castor_${name})
endfunction()

# castor_unit_test(name SOURCES ... DEPS ...): a GoogleTest binary registered with ctest label "unit".
function(castor_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE CASTOR_SHARED_DIR="${CASTOR_SHARED_DIR}"
                             CASTOR_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  castor_warnings(${name})
  gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
endfunction()

# Links jemalloc as the process's malloc (an executable only; libraries never choose it). The
# server's hot paths allocate on one thread and free on another (IO thread, shard, committer);
# glibc's arenas pay for that in locks and consolidation, jemalloc's thread caches do not: on the
# durable PATCH benchmark it saved ~1.5 us of ~23 us CPU per request, and loading 1 M twins ran
# 25% faster with a lower RSS after restart (docs/benchmarks.md). Sanitizer builds keep theirs.
# Its settings (src/common/allocator_settings.cpp) are compiled into the executable.
function(castor_allocator target)
  if(NOT CASTOR_SANITIZE)
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src/common/allocator_settings.cpp)
  endif()
endfunction()
