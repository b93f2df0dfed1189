#!/bin/sh
# Faults around `zspace train`, as a user meets them:
#   1. a full disk while saving (a 1 MB file-size limit, SIGXFSZ ignored, as
#      a full disk's write error): every save fails with a message naming the
#      checkpoint, the run exits non-zero, the previous checkpoint is byte
#      for byte intact and loads, no temporary file is left;
#   2. the face cache truncated while training: training stops with a
#      message naming the cache, exits non-zero, and the model trained so far
#      is saved and loads;
#   3. the face cache deleted while training: training goes on to the end on
#      the faces it opened (the descriptor keeps them), with a warning that
#      resuming later needs the same cache.
# usage: fault_train.sh ZSPACE CELEBA_DIR
set -u
zs=$1; celeba=$2
[ -d "$celeba/img_align_celeba" ] || { echo "no CelebA slice at $celeba: skipped"; exit 77; }
command -v prlimit >/dev/null || { echo "prlimit (util-linux) not found"; exit 1; }
dir=$(mktemp -d /tmp/zsfault.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$zs" prepare --celeba "$celeba" --out "$dir/faces.zsf" --limit 96 --threads 2 >/dev/null 2>&1 ||
    { echo "prepare failed"; exit 1; }
fail=0
train() {   # train OUT DATA STEPS [more options]
    out=$1 data=$2 steps=$3; shift 3
    "$zs" train --data "$data" --out "$out" --steps "$steps" --batch 8 --threads 2 --grid-every 0 --log-every 1 "$@"
}
loads() { "$zs" eval --model "$1" --data "$dir/faces.zsf" --split train --threads 1 >/dev/null 2>&1; }
ckpt_step() { grep -a -o '"step":"[0-9]*"' "$1" | head -1 | tr -dc 0-9; }

# 1. full disk
train "$dir/m.safetensors" "$dir/faces.zsf" 2 >/dev/null 2>&1 || { echo "first training run failed"; exit 1; }
cp "$dir/m.safetensors" "$dir/ref.safetensors"
(trap '' XFSZ; exec prlimit --fsize=1000000 "$zs" train --data "$dir/faces.zsf" --out "$dir/m.safetensors" \
    --steps 4 --ckpt-every 1 --batch 8 --threads 2 --grid-every 0 --resume) >"$dir/log1" 2>&1
rc=$?
if [ $rc -eq 0 ]; then echo "1: training with a full disk exited 0"; fail=1; fi
grep -q "$dir/m.safetensors: not saved" "$dir/log1" ||
    { echo "1: no message naming the checkpoint:"; cat "$dir/log1"; fail=1; }
cmp -s "$dir/m.safetensors" "$dir/ref.safetensors" || { echo "1: the previous checkpoint changed"; fail=1; }
loads "$dir/m.safetensors" || { echo "1: the previous checkpoint does not load"; fail=1; }
if ls "$dir" | grep -q '\.tmp\.'; then echo "1: a temporary file was left: $(ls "$dir")"; fail=1; fi
echo "1. full disk: exit $rc, $(grep -c 'not saved' "$dir/log1") saves refused, previous checkpoint intact"

# 2. cache truncated mid-training
cp "$dir/faces.zsf" "$dir/live.zsf"
train "$dir/t.safetensors" "$dir/live.zsf" 100000 --ckpt-every 2 >"$dir/log2" 2>&1 &
pid=$!
n=0
while [ ! -e "$dir/t.safetensors" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
truncate -s 8192 "$dir/live.zsf"
n=0
while kill -0 "$pid" 2>/dev/null && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [ $rc -ne 1 ]; then echo "2: exit status $rc after the cache was truncated (expected 1; 135 is SIGBUS)"; fail=1; fi
grep -q "live.zsf.*truncated" "$dir/log2" || { echo "2: no message naming the cache:"; tail -3 "$dir/log2"; fail=1; }
loads "$dir/t.safetensors" || { echo "2: the model was not kept"; fail=1; }
echo "2. truncated cache: exit $rc, model kept at step $(ckpt_step "$dir/t.safetensors"): $(grep -o 'training stopped.*' "$dir/log2" | head -1)"

# 3. cache deleted mid-training
cp "$dir/faces.zsf" "$dir/gone.zsf"
train "$dir/g.safetensors" "$dir/gone.zsf" 16 --ckpt-every 4 >"$dir/log3" 2>&1 &
pid=$!
n=0
while [ ! -e "$dir/g.safetensors" ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
rm "$dir/gone.zsf"
wait "$pid"
rc=$?
step=$(ckpt_step "$dir/g.safetensors")
if [ $rc -ne 0 ] || [ "$step" != 16 ]; then echo "3: exit $rc, step $step after the cache was deleted"; tail -3 "$dir/log3"; fail=1; fi
grep -q "gone.zsf was deleted" "$dir/log3" || { echo "3: no warning that the cache was deleted"; fail=1; }
echo "3. deleted cache: exit $rc, trained to step $step, with a warning"
exit $fail
