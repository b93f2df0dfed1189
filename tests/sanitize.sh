#!/bin/sh
# The test suite under the sanitizers (run by .ci/run after the plain suite):
#   1. AddressSanitizer + UndefinedBehaviorSanitizer (gcc): every ctest except
#      the ones that only drive other processes (kill_train: kill -9 of the
#      CLI; torch_*: Python), with LeakSanitizer on and the known leaks of
#      system libraries suppressed (tests/sanitizers.supp). This includes the
#      fuzz corpora replayed (fuzz_replay_*), the 1,000 + 1,000 mutated
#      checkpoints and caches (test_mutate) and the CLI's fault runs
#      (fault_train: full disk, cache truncated and deleted mid-training).
#   2. ThreadSanitizer: the threaded tests (the trainer publishing snapshots
#      while others read them, the double-buffered loader, the explorer's
#      decode worker when built).
# Every run is wrapped in `timeout -s KILL`: a sanitizer that deadlocks in a
# driver must not hang CI. Usage: sh tests/sanitize.sh [asan|tsan|all]
set -eu
cd "$(dirname "$0")/.."
what=${1:-all}
supp="$PWD/tests/sanitizers.supp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

if [ "$what" = asan ] || [ "$what" = all ]; then
    # -O1: ASan's usual level; at -O0 the engine's vector loops run ~100x slower
    cmake -B build-ci-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DZS_ASAN=ON >/dev/null
    cmake --build build-ci-asan -j2 >/dev/null
    timeout -s KILL 900 ctest --test-dir build-ci-asan --output-on-failure -j2 -E '^(kill_train|torch_.*)$'
fi
if [ "$what" = tsan ] || [ "$what" = all ]; then
    cmake -B build-ci-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZS_TSAN=ON >/dev/null
    cmake --build build-ci-tsan -j2 >/dev/null
    timeout -s KILL 900 ctest --test-dir build-ci-tsan --output-on-failure -j1 -L threads
fi
