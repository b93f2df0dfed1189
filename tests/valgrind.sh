#!/bin/sh
# The CLI's main commands under valgrind memcheck: prepare (200 faces),
# train (2 steps with a reconstruction grid and a checkpoint, then a
# resume), eval and encode (24 faces), attrs, edit (with --detail and
# --keep), interp, sample, recon, export. Any invalid read or write, use of uninitialised memory in
# a branch, or a definite or indirect leak fails the run; each command's
# full report is kept in the log directory.
#
# A longer job, not in CI (.ci/run): it takes ~30-60 minutes on 2 cores
# (memcheck runs ~50x slower and serialises threads). Build with symbols for
# readable reports:
#   cmake -B build-vg -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build-vg -j2 --target zspace
#   sh tests/valgrind.sh build-vg/zspace ../shared/celeba [LOGDIR]
set -u
zs=$1; celeba=$2; logs=${3:-}
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 77; }
[ -d "$celeba/img_align_celeba" ] || { echo "no CelebA slice at $celeba: skipped"; exit 77; }
dir=$(mktemp -d /tmp/zsvg.XXXXXX)
[ -n "$logs" ] || logs="$dir/logs"
mkdir -p "$logs"
imgs="$celeba/img_align_celeba"
[ -d "$imgs/img_align_celeba" ] && imgs="$imgs/img_align_celeba"
a=$(ls "$imgs" | head -1); b=$(ls "$imgs" | sed -n 2p)
# OpenBLAS keeps its thread pool and buffers until exit: "still reachable",
# not counted. Errors in the system libraries' own code would be reported
# too (none are expected: no suppressions are used).
vg="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --num-callers=30"
fail=0; n=0
run() {   # run NAME ARGS...
    name=$1; shift
    n=$((n + 1))
    t0=$(date +%s)
    $vg --log-file="$logs/$name.vg" "$zs" "$@" >"$logs/$name.out" 2>&1
    rc=$?
    errs=$(grep -o 'ERROR SUMMARY: [0-9]*' "$logs/$name.vg" | tail -1 | tr -dc 0-9)
    lost=$(grep -E 'definitely lost:|indirectly lost:' "$logs/$name.vg" | sed 's/.*lost: //; s/ bytes.*//; s/,//g' | tr '\n' ' ')
    printf '%-13s exit %-3s errors %-3s lost (definite, indirect) %-14s %4ss\n' "$name" "$rc" "${errs:-?}" "${lost:-0 0}" \
        $(( $(date +%s) - t0 ))
    if [ "$rc" -ne 0 ] || [ "${errs:-1}" -ne 0 ]; then
        fail=1
        echo "  see $logs/$name.vg and $logs/$name.out"
    fi
}
# The model is the real dfc64 (2.7M parameters), which memcheck runs
# ~1000x slower than natively: training, its closing evaluation, eval and
# encode use a 24-face cache (attrs needs 20) (prepare itself is tried on 200).
run prepare prepare --celeba "$celeba" --out "$dir/faces.zsf" --limit 200 --threads 2
run prepare_small prepare --celeba "$celeba" --out "$dir/small.zsf" --limit 24 --threads 1
run train   train --data "$dir/small.zsf" --out "$dir/m.safetensors" --steps 2 --batch 4 --threads 1 \
            --grid-every 2 --ckpt-every 2 --log-every 1
run resume  train --data "$dir/small.zsf" --out "$dir/m.safetensors" --steps 3 --batch 4 --threads 1 \
            --grid-every 0 --resume
run eval    eval --model "$dir/m.safetensors" --data "$dir/small.zsf" --split train --threads 1
run encode  encode --model "$dir/m.safetensors" --data "$dir/small.zsf" --out "$dir/lat.safetensors"
run attrs   attrs --model "$dir/m.safetensors" --latents "$dir/lat.safetensors" --out "$dir/attrs.safetensors"
run edit    edit --model "$dir/m.safetensors" --attrs "$dir/attrs.safetensors" --add Smiling=1 \
            --add Eyeglasses=-0.5 --keep Male --detail "$imgs/$a" --out-dir "$dir/out"
run interp  interp --model "$dir/m.safetensors" "$imgs/$a" "$imgs/$b" --steps 4 --out "$dir/strip.png"
run sample  sample --model "$dir/m.safetensors" --count 4 --seed 1 --out "$dir/grid.png"
run recon   recon --model "$dir/m.safetensors" "$imgs/$a" --out-dir "$dir/out"
run export  export --model "$dir/m.safetensors" --out "$dir/small.safetensors" --f16
echo "$n commands under memcheck: $([ $fail -eq 0 ] && echo 'no errors, no definite or indirect leaks' || echo FAILED); logs in $logs"
[ $fail -eq 0 ] && [ -z "${3:-}" ] && rm -rf "$dir"
exit $fail
