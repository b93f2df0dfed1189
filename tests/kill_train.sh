#!/bin/sh
# kill -9 a training process at 20 random moments (it checkpoints every
# step, so many kills land inside a checkpoint write): the checkpoint on disk
# must always load, and --resume must always continue from it.
# usage: kill_train.sh ZSPACE CELEBA_DIR
set -u
zs=$1; celeba=$2
[ -d "$celeba/img_align_celeba" ] || { echo "no CelebA slice at $celeba: skipped"; exit 77; }
dir=$(mktemp -d /tmp/zskill.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$zs" prepare --celeba "$celeba" --out "$dir/faces.zsf" --limit 300 --threads 2 >/dev/null 2>&1 ||
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
exit $fail
