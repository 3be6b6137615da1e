#!/usr/bin/env bash
# Build the libFuzzer targets and run each for a bounded time.
#
#   tests/fuzz/run-bounded.sh [TARGET...]
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_PARALLEL  targets run at once (default 1)
#   FUZZ_BUILDDIR  build directory (default <source>/build-fuzz; created with
#                  CC=clang, -Dfuzz=true -Db_sanitize=address,undefined)
#   FUZZ_WORKDIR   where corpora and crash files go (default: a new mktemp -d;
#                  removed afterwards unless something failed)
#
# Each target starts from a copy of tests/fuzz/corpus/<target>/; nothing is
# written into the source tree. Prints one line per target and a final
# "N passed, N failed"; exits 1 if any target crashed, leaked, timed out or
# ran out of memory (the crash input's path is printed), 2 on a build error.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-30}
parallel=${FUZZ_PARALLEL:-1}
builddir=${FUZZ_BUILDDIR:-$src/build-fuzz}
all_targets="layer_tar json digest index whiteout path escape report proc live saved"
targets=${*:-$all_targets}

max_len() {
	case $1 in
	layer_tar) echo 131072 ;;
	json|index|live|saved) echo 65536 ;;
	whiteout) echo 288 ;;
	digest) echo 512 ;;
	*) echo 4096 ;;
	esac
}

if [ ! -f "$builddir/build.ninja" ]; then
	CC=clang CXX=clang++ meson setup "$builddir" "$src" -Dfuzz=true -Dtests=false </dev/null \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
		>"${TMPDIR:-/tmp}/ddfuzz-setup.log" 2>&1 || {
		cat "${TMPDIR:-/tmp}/ddfuzz-setup.log" >&2
		echo "run-bounded: meson setup failed (needs clang and libclang-rt-dev)" >&2
		exit 2
	}
fi
if ! meson compile -C "$builddir" >"$builddir/fuzz-build.log" 2>&1; then
	cat "$builddir/fuzz-build.log" >&2
	echo "run-bounded: build failed" >&2
	exit 2
fi

work=${FUZZ_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/ddfuzz.XXXXXX")}
mkdir -p "$work"

run_one() {
	local t=$1 exe="$builddir/tests/fuzz/fuzz_$1" dir="$work/$1"
	local rc execs rate crashes

	mkdir -p "$dir/corpus" "$dir/crashes" "$dir/tmp"
	cp -r "$src/tests/fuzz/corpus/$t/." "$dir/corpus/" 2>/dev/null
	# Every crash ever found is replayed first: a fixed bug must stay fixed.
	cp -r "$src/tests/fuzz/crashes/$t/." "$dir/corpus/" 2>/dev/null
	TMPDIR="$dir/tmp" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	"$exe" -max_total_time="$seconds" -max_len="$(max_len "$t")" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$dir/crashes/" \
		"$dir/corpus" >"$dir/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
	crashes=$(find "$dir/crashes" -type f | sort)
	if [ $rc -eq 0 ] && [ -z "$crashes" ]; then
		printf 'PASS %-10s %10s execs %7s exec/s\n' "$t" "${execs:-?}" "${rate:-?}" >"$dir/result"
	else
		{
			printf 'FAIL %-10s %10s execs %7s exec/s (exit %d, log %s)\n' "$t" "${execs:-?}" \
				"${rate:-?}" "$rc" "$dir/log"
			for c in $crashes; do
				printf '     crash input: %s\n' "$c"
			done
			grep -m3 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|whiteout model mismatch)' \
				"$dir/log" | sed 's/^/     /'
		} >"$dir/result"
	fi
	rm -rf "$dir/tmp"
}

running=0
for t in $targets; do
	if [ ! -x "$builddir/tests/fuzz/fuzz_$t" ]; then
		echo "run-bounded: no target fuzz_$t" >&2
		exit 2
	fi
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$parallel" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

passed=0
failed=0
for t in $targets; do
	cat "$work/$t/result"
	if grep -q '^PASS' "$work/$t/result"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ]; then
	echo "run-bounded: logs, corpora and crash inputs kept in $work"
	exit 1
fi
[ -n "${FUZZ_WORKDIR:-}" ] || rm -rf "$work"
exit 0
