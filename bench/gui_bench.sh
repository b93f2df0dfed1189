#!/bin/sh
# The explorer with training running against the CLI's training rate, same
# machine, same minute, settings alternated (docs/gui.md, "Training priority"):
#   sh bench/gui_bench.sh FACES.zsf [ROUNDS] [BUILD] [all]
# Each round: zspace train --threads 2 (90 steps from the shipped model; its
# steady rate is taken from the metrics CSV between steps 10 and 90, so start-up
# and the first steps count on neither side), then `zspace gui --bench
# --seconds 10` (Smiling dragged back and forth, training on FACES.zsf; the
# rate runs from the end of a step after the first second to the end of the
# last one) and the ratio of the two. With `all`, also --threads 1 for the CLI
# and, for the GUI, 1 trainer thread, 2 with a fixed slice each
# (--train-static) and 2 at nice 0. The last lines give the median ratio of
# the rounds. Needs xvfb-run; run it on a quiet machine.
set -eu
faces=${1:?usage: gui_bench.sh FACES.zsf [ROUNDS] [BUILD] [all]}
rounds=${2:-3}
build=${3:-build}
all=${4:-}
here=$(cd "$(dirname "$0")/.." && pwd)
Z=$build/zspace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# steady img/s of `zspace train` from its CSV: (last step - 10) * 64 / (seconds(last) - seconds(10))
cli_rate() {
    "$Z" train --data "$faces" --out "$tmp/cli.safetensors" --init "$here/data/default.safetensors" \
        --steps "$2" --threads "$1" --grid-every 0 --log-every 10 >/dev/null 2>&1
    awk -F, 'NR > 1 && $1 == 10 { s0 = $3 } NR > 1 { s = $1; t = $3 } END { printf "%.1f", (s - 10) * 64 / (t - s0) }' \
        "$tmp/cli.metrics.csv"
}

variants="--train-threads 2"
[ "$all" = all ] && variants="--train-threads 2|--train-threads 1|--train-threads 2 --train-static|--train-threads 2 --train-nice 0"
: >"$tmp/ratios"
for r in $(seq 1 "$rounds"); do
    echo "== round $r"
    c2=$(cli_rate 2 90)
    echo "cli_threads_2 $c2 img/s"
    [ "$all" = all ] && echo "cli_threads_1 $(cli_rate 1 60) img/s"
    IFS='|'
    for v in $variants; do
        unset IFS
        # shellcheck disable=SC2086
        xvfb-run -a -s '-screen 0 1280x800x24' "$Z" gui --bench --seconds 10 --data "$faces" $v >"$tmp/gui.txt" 2>&1
        g=$(awk '$1 == "train_img_per_s" { print $2 }' "$tmp/gui.txt")
        ratio=$(awk -v g="$g" -v c="$c2" 'BEGIN { printf "%.3f", (c > 0 ? g / c : 0) }')
        [ "$v" = "--train-threads 2" ] && echo "$ratio" >>"$tmp/ratios"
        echo "gui $v: ratio_to_cli_2 $ratio $(grep -E '^(frames|frame_ms_p50|frame_ms_p95|frame_ms_p99|decode_ms_p50|train_img_per_s|cpu_cores) ' "$tmp/gui.txt" | tr '\n' ' ')"
        IFS='|'
    done
    unset IFS
done
echo "== training while dragging / CLI --threads 2, $rounds rounds: $(sort -n "$tmp/ratios" | tr '\n' ' ')"
sort -n "$tmp/ratios" | awk '{ v[NR] = $1 } END { printf "median %.3f, %d of %d rounds at 0.80 or more\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, n, NR } $1 >= 0.8 { n++ }'
