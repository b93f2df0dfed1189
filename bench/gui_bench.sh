#!/bin/sh
# The explorer with training running against the CLI's training rate, same
# machine, same minutes, settings alternated (docs/gui.md, "Training priority"):
#   sh bench/gui_bench.sh FACES.zsf [ROUNDS] [BUILD] [all]
# The runs go CLI, GUI, CLI, GUI, ..., CLI: each GUI run is flanked by two
# CLI runs and its ratio is to their mean, so a machine that speeds up or
# slows down over the minutes (a neighbour on the host, a cache warming)
# moves both sides of the ratio instead of one.
# CLI: zspace train --threads 2, 90 steps from the shipped model; its steady
# rate is taken from the metrics CSV between steps 10 and 90, so start-up and
# the first steps count on neither side. GUI: `zspace gui --bench --seconds
# 10` (Smiling dragged back and forth, training on FACES.zsf; the rate runs
# from the end of a step after the first second to the end of the last one).
# With `all`, each round also runs, for the GUI, 1 trainer thread, 2 with a
# fixed slice each (--train-static) and 2 at nice 0, all against the same
# flanking CLI runs, and --threads 1 for the CLI. The last lines give the
# median ratio of the rounds. Needs xvfb-run; run it on a quiet machine.
set -eu
faces=${1:?usage: gui_bench.sh FACES.zsf [ROUNDS] [BUILD] [all]}
rounds=${2:-3}
build=${3:-build}
all=${4:-}
here=$(cd "$(dirname "$0")/.." && pwd)
Z=$build/zspace
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

batch=64
# steady img/s of `zspace train`, from its CSV: images from step 10 to the last over the seconds between
cli_rate() {
    "$Z" train --data "$faces" --out "$tmp/cli.safetensors" --init "$here/data/default.safetensors" \
        --steps "$2" --threads "$1" --batch $batch --grid-every 0 --log-every 10 >/dev/null 2>&1
    awk -F, -v b=$batch 'NR > 1 && $1 == 10 { s0 = $3 } NR > 1 { s = $1; t = $3 } END { printf "%.1f", (s - 10) * b / (t - s0) }' \
        "$tmp/cli.metrics.csv"
}

# one 10 s drag with the GUI options given, its output kept in $tmp/gui.$n
n=0
gui_run() {
    n=$((n + 1))
    echo "$*" >"$tmp/opts.$n"
    xvfb-run -a -s '-screen 0 1280x800x24' "$Z" gui --bench --seconds 10 --data "$faces" "$@" >"$tmp/gui.$n" 2>&1
}

# the round's GUI lines, each with its training rate over the mean of the CLI runs before ($c0) and after ($c1)
report() {
    for i in $(seq 1 "$n"); do
        ratio=$(awk -v a="$c0" -v b="$c1" '$1 == "train_img_per_s" { printf "%.3f", (a + b > 0 ? 2 * $2 / (a + b) : 0) }' "$tmp/gui.$i")
        [ "$i" = 1 ] && echo "$ratio" >>"$tmp/ratios"
        echo "gui $(cat "$tmp/opts.$i"): ratio_to_cli_2 $ratio $(grep -E '^(frames|frame_ms_p50|frame_ms_p95|frame_ms_p99|decode_ms_p50|decode_compute_ms_p50|train_img_per_s|cpu_cores) ' "$tmp/gui.$i" | tr '\n' ' ')"
    done
    n=0
}

: >"$tmp/ratios"
c1=$(cli_rate 2 90)
for r in $(seq 1 "$rounds"); do
    echo "== round $r"
    c0=$c1
    gui_run --train-threads 2
    if [ "$all" = all ]; then
        echo "cli_threads_1 $(cli_rate 1 60) img/s"
        gui_run --train-threads 1
        gui_run --train-threads 2 --train-static
        gui_run --train-threads 2 --train-nice 0
    fi
    c1=$(cli_rate 2 90)
    echo "cli_threads_2 before $c0, after $c1 img/s"
    report
done
echo "== training while dragging / CLI --threads 2, $rounds rounds: $(sort -n "$tmp/ratios" | tr '\n' ' ')"
sort -n "$tmp/ratios" | awk '$1 >= 0.8 { n++ } { v[NR] = $1 }
    END { printf "median %.3f, %d of %d rounds at 0.80 or more\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, n, NR }'
