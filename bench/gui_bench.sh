#!/bin/sh
# The explorer with training running against the CLI's training rate, same
# machine, same minute, settings alternated (docs/gui.md, "Training priority"):
#   sh bench/gui_bench.sh FACES.zsf [ROUNDS] [BUILD]
# Each round: zspace train --threads 2 and --threads 1 (80 / 60 steps from the
# shipped model), then `zspace gui --bench --seconds 10` (Smiling dragged back
# and forth, training on FACES.zsf) with 1 and 2 trainer threads at nice 10
# (the default) and 0, and 2 with a fixed slice per thread (--train-static)
# against the default chunks. Needs xvfb-run; run it on a quiet machine.
set -eu
faces=${1:?usage: gui_bench.sh FACES.zsf [ROUNDS] [BUILD]}
rounds=${2:-2}
build=${3:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
Z=$build/zspace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq 1 "$rounds"); do
    echo "== round $r"
    for t in 2 1; do
        steps=$((t == 2 ? 80 : 60))
        rate=$("$Z" train --data "$faces" --out "$tmp/cli.safetensors" --init "$here/data/default.safetensors" \
                   --steps $steps --threads $t --grid-every 0 2>&1 | grep -o "[0-9.]* img/s" | tail -1)
        echo "cli_threads_$t $rate"
    done
    for v in "--train-threads 1" "--train-threads 2 --train-static" "--train-threads 2" "--train-threads 2 --train-nice 0"; do
        # shellcheck disable=SC2086
        xvfb-run -a -s '-screen 0 1280x800x24' "$Z" gui --bench --seconds 10 --data "$faces" $v >"$tmp/gui.txt" 2>&1
        echo "gui $v: $(grep -E '^(frames|frame_ms_p50|frame_ms_p95|frame_ms_p99|decode_ms_p50|train_img_per_s|cpu_cores) ' "$tmp/gui.txt" | tr '\n' ' ')"
    done
done
