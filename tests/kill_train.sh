#!/bin/sh
# kill -9 a training process at 20 random moments (it checkpoints every
# step, so many kills land inside a checkpoint write), then 20 more times
# while a checkpoint write is certainly under way: the checkpoint on disk
# must always load, and --resume must always continue from it.
# usage: kill_train.sh ZSPACE CELEBA_DIR
set -u
zs=$1; celeba=$2
[ -d "$celeba/img_align_celeba" ] || { echo "no CelebA slice at $celeba: skipped"; exit 77; }
dir=$(mktemp -d /tmp/zskill.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$zs" prepare --celeba "$celeba" --out "$dir/faces.zsf" --limit 96 --threads 2 >/dev/null 2>&1 ||
    { echo "prepare failed"; exit 1; }
fail=0; loaded=0; last=0
for i in $(seq 1 20); do
    "$zs" train --data "$dir/faces.zsf" --out "$dir/m.safetensors" --steps 100000 --batch 8 --threads 2 \
        --ckpt-every 1 --log-every 1 --grid-every 0 --resume >"$dir/log" 2>&1 &
    pid=$!
    # 0.3 .. 2.2 s: after the first run the process is past start-up and saving every step
    sleep "$(awk -v s="$i" 'BEGIN { srand(s * 7919); printf "%.2f", 0.3 + 1.9 * rand() }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -e "$dir/m.safetensors" ]; then
        if out=$("$zs" eval --model "$dir/m.safetensors" --data "$dir/faces.zsf" --split train --threads 1 2>&1); then
            loaded=$((loaded + 1))
        else
            echo "run $i: checkpoint does not load after kill -9: $out"; fail=1
        fi
        step=$(grep -a -o '"step":"[0-9]*"' "$dir/m.safetensors" | head -1 | tr -dc 0-9)
        if [ -n "$step" ] && [ "$step" -lt "$last" ]; then echo "run $i: step went back from $last to $step"; fail=1; fi
        [ -n "$step" ] && last=$step
    fi
    # a kill inside a save leaves its temporary file; the next run removes it
    ntmp=$(ls "$dir" | grep -c '\.tmp\.')
    [ "$ntmp" -le 1 ] || { echo "run $i: $ntmp temporary files have piled up"; fail=1; }
done
echo "checkpoint loaded after $loaded of 20 kills; last step $last"
[ "$loaded" -ge 15 ] || { echo "too few runs got to a first checkpoint"; fail=1; }
[ "$last" -gt 0 ] || fail=1

# Then 20 kills certainly inside a checkpoint write: wait for the process's
# temporary file to appear (it exists from the first byte written until
# the rename), wait 0..15 ms more, kill -9. A kill counts as inside the
# write when the temporary file is still there afterwards (no rename came);
# its size shows how far the write had got (the full size: in the fsync).
# Runs until 20 kills landed inside a write (at most 40 runs).
inside=0; sizes=""; i=0
while [ "$inside" -lt 20 ] && [ "$i" -lt 40 ]; do
    i=$((i + 1))
    "$zs" train --data "$dir/faces.zsf" --out "$dir/m.safetensors" --steps 100000 --batch 8 --threads 2 \
        --ckpt-every 1 --log-every 1 --grid-every 0 --resume >"$dir/log" 2>&1 &
    pid=$!
    tmp="$dir/m.safetensors.tmp.$pid"
    n=0
    while [ ! -e "$tmp" ] && [ $n -lt 2000 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.005; n=$((n + 1)); done
    sleep "$(awk -v s="$i" 'BEGIN { srand(s * 104729); printf "%.3f", 0.015 * rand() }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -e "$tmp" ]; then
        inside=$((inside + 1))
        sizes="$sizes $(wc -c <"$tmp")"
    fi
    if ! out=$("$zs" eval --model "$dir/m.safetensors" --data "$dir/faces.zsf" --split train --threads 1 2>&1); then
        echo "in-write run $i: checkpoint does not load after kill -9: $out"; fail=1
    fi
    step=$(grep -a -o '"step":"[0-9]*"' "$dir/m.safetensors" | head -1 | tr -dc 0-9)
    if [ -n "$step" ] && [ "$step" -lt "$last" ]; then echo "in-write run $i: step went back from $last to $step"; fail=1; fi
    [ -n "$step" ] && last=$step
done
echo "kill -9 inside a checkpoint write: $inside of $i runs (the temporary file was left at these sizes:$sizes bytes); the checkpoint loaded after every one; last step $last"
[ "$inside" -ge 20 ] || { echo "only $inside of $i kills landed inside a write"; fail=1; }
exit $fail
