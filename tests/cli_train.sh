#!/usr/bin/env bash
# cli_train.sh CLGAN TMPDIR - end to end: a 50-iteration run writes every artifact and
# each is valid (numpy loads the arrays, the PNGs and GIF decode, the checkpoint draws
# samples); the same --seed gives identical loss arrays; another seed does not; Ctrl-C
# writes every output and ends the process by SIGINT (status 130).
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
check() { # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
py=/usr/bin/python3

run() { "$clgan" train --iterations 50 --sample-every 20 --log-every 10 --monitor-every 10 --seed "$2" --out "$tmp/$1" "${@:3}"; }
check "train a" run a 7 >"$tmp/a.log" 2>&1
cat "$tmp/a.log"
check "train b (same seed)" run b 7 >/dev/null 2>&1
check "train c (other seed)" run c 8 >/dev/null 2>&1

for f in discriminator_loss.npy generator_loss.npy discriminator_accuracy.npy config.ini \
         metrics.jsonl training.gif generator.safetensors images/0.png images/20.png \
         images/40.png images/50.png; do
  check "artifact $f" test -s "$tmp/a/$f"
done
check "no temp files left" test -z "$(find "$tmp/a" -name '*.tmp*' -o -name '*.partial')"
check "log names the outputs" grep -q "loss arrays" "$tmp/a.log"

# Ctrl-C: the run stops, writes every output, and ends by SIGINT (status 130).
"$clgan" train --iterations 100000 --sample-every 0 --out "$tmp/int" >"$tmp/int.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  [ -s "$tmp/int/metrics.jsonl.partial" ] && break
  sleep 0.5
done
kill -INT $pid
for _ in $(seq 1 120); do # a run that ignored it would train 100000 iterations: cap the wait
  kill -0 $pid 2>/dev/null || break
  sleep 0.5
done
kill -0 $pid 2>/dev/null && kill -9 $pid
wait $pid
rc=$?
check "Ctrl-C exits 130 (got $rc)" test $rc = 130
check "Ctrl-C leaves no temp files" test -z "$(find "$tmp/int" -name '*.tmp*' -o -name '*.partial')"
check "Ctrl-C says where it stopped" grep -q "stopped at iteration" "$tmp/int.log"
for f in discriminator_loss.npy generator.safetensors training.gif metrics.jsonl; do
  check "Ctrl-C still writes $f" test -s "$tmp/int/$f"
done

check "numpy loads the loss arrays" $py - "$tmp/a" <<'PY'
import sys, json, numpy as np
d = sys.argv[1]
dl = np.load(d + "/discriminator_loss.npy"); gl = np.load(d + "/generator_loss.npy")
assert dl.dtype == np.float32 and gl.dtype == np.float32, (dl.dtype, gl.dtype)
assert dl.shape == (50,) and gl.shape == (50,), (dl.shape, gl.shape)
assert np.all(np.isfinite(dl)) and np.all(np.isfinite(gl))
assert 0.0 < dl.mean() < 5.0 and 0.0 < gl.mean() < 20.0, (dl.mean(), gl.mean())
recs = [json.loads(l) for l in open(d + "/metrics.jsonl")]
assert [r["iteration"] for r in recs] == [10, 20, 30, 40, 50], recs
assert abs(recs[-1]["g_loss"] - gl[40:].mean()) < 1e-4 * max(1, abs(gl[40:].mean()))
gn = np.load(d + "/grad_norms.npy"); gi = np.load(d + "/grad_norm_iterations.npy")
assert gn.ndim == 2 and gn.shape[0] == gi.shape[0] == len([r for r in recs if "monitor_iteration" in r])
assert gn.shape[1] == len(recs[0]["g_layer_grad_norms"]) + len(recs[0]["d_layer_grad_norms"])
assert np.all(gn > 0) and np.all(np.isfinite(gn))
print("arrays ok: d_loss %.4f g_loss %.4f, %d metric records" % (dl.mean(), gl.mean(), len(recs)))
PY

check "same seed, identical loss arrays" cmp "$tmp/a/discriminator_loss.npy" "$tmp/b/discriminator_loss.npy"
check "same seed, identical G loss" cmp "$tmp/a/generator_loss.npy" "$tmp/b/generator_loss.npy"
check "other seed, other losses" bash -c "! cmp -s '$tmp/a/generator_loss.npy' '$tmp/c/generator_loss.npy'"

check "PNG grid decodes, 5x5 of 28x28 and a caption" $py - "$tmp/a/images/50.png" "$tmp/a/images/40.png" <<'PY'
import sys
import numpy as np
from PIL import Image
a = np.asarray(Image.open(sys.argv[1])); b = np.asarray(Image.open(sys.argv[2]))
assert a.shape == (5 * 28 + 4 * 2 + 9, 5 * 28 + 4 * 2), a.shape  # 9 caption rows
cap_a, cap_b = a[-9:], b[-9:]
assert set(np.unique(cap_a)) == {0, 255}, "the caption is white text on black"
assert (cap_a != cap_b).any(), "iterations 40 and 50 have different captions"
PY
"$clgan" train --iterations 2 --sample-every 0 --eval-every 0 --grid-scale 3 --out "$tmp/scaled" >/dev/null 2>&1
check "--grid-scale 3 enlarges grids and GIF frames" $py - "$tmp/scaled" <<'PY'
import sys
from PIL import Image
d = sys.argv[1]
for f in (d + "/images/2.png", d + "/training.gif"):
    assert Image.open(f).size == (3 * 148, 3 * 157), (f, Image.open(f).size)
PY
check "GIF has one frame per grid" $py - "$tmp/a/training.gif" <<'PY'
import sys
from PIL import Image
im = Image.open(sys.argv[1]); n = 0
try:
    while True: n += 1; im.seek(n)
except EOFError: pass
assert n == 4, n  # grids at 0, 20, 40 and the final 50
PY

check "config.ini repeats the run" "$clgan" train --config "$tmp/a/config.ini" --out "$tmp/r" >/dev/null 2>&1
check "repeat gives the same losses" cmp "$tmp/a/generator_loss.npy" "$tmp/r/generator_loss.npy"

check "sample to png" "$clgan" sample --checkpoint "$tmp/a/generator.safetensors" --n 10 --out "$tmp/s.png"
check "sample to npy" "$clgan" sample --checkpoint "$tmp/a/generator.safetensors" --n 70 --out "$tmp/s.npy"
check "samples are G's range and shape" $py -c "
import numpy as np; a = np.load('$tmp/s.npy'); assert a.shape == (70, 28, 28), a.shape
assert a.min() >= -1 and a.max() <= 1 and a.std() > 0.01"
ck=$tmp/a/generator.safetensors
check "sample --save-noise" "$clgan" sample --checkpoint "$ck" --n 12 --seed 4 --out "$tmp/s12.npy" --save-noise "$tmp/z12.npy"
check "sample --noise gives the same images" bash -c "'$clgan' sample --checkpoint '$ck' --noise '$tmp/z12.npy' --out '$tmp/s12b.npy' >/dev/null && cmp '$tmp/s12.npy' '$tmp/s12b.npy'"
check "sample --interpolate" "$clgan" sample --checkpoint "$ck" --noise "$tmp/z12.npy" --interpolate 2,5,9 --steps 5 \
  --grid-scale 2 --out "$tmp/lerp.png" --save-noise "$tmp/zl.npy"
"$clgan" sample --checkpoint "$ck" --noise "$tmp/z12.npy" --interpolate 2,5,9 --steps 5 --out "$tmp/lerp.npy" >/dev/null 2>&1
check "interpolation: paths from row to row, a grid of one path per row" $py - "$tmp" <<'PY'
import sys
import numpy as np
from PIL import Image
t = sys.argv[1]
z, zl = np.load(t + "/z12.npy"), np.load(t + "/zl.npy")
s, sl = np.load(t + "/s12.npy"), np.load(t + "/lerp.npy")
assert zl.shape == (10, z.shape[1]), zl.shape
for k, (row, want) in enumerate([(0, 2), (4, 5), (5, 5), (9, 9)]):
    assert np.array_equal(zl[row], z[want]), (row, want)  # the paths end on the anchors
    assert np.abs(sl[row] - s[want]).max() < 1e-5, row     # and draw the same images there
mid = zl[2]
assert not np.allclose(mid, z[2]) and not np.allclose(mid, z[5])
assert abs(np.linalg.norm(mid) - np.linalg.norm(z[2])) < 0.25 * np.linalg.norm(z[2])  # slerp keeps the norm
assert Image.open(t + "/lerp.png").size == (2 * (5 * 28 + 4 * 2), 2 * (2 * 28 + 2))
PY
check "checkpoint readable from Python" $py - "$tmp/a/generator.safetensors" <<'PY'
import sys, json, struct, numpy as np
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n]); assert h["dense0.kernel"]["shape"] == [100, 256]
assert "bn0.moving_variance" in h and h["__metadata__"]["format"] == "clgan-generator-1"
s, e = h["dense3.kernel"]["data_offsets"]
w = np.frombuffer(b[8 + n + s:8 + n + e], dtype="<f4"); assert w.size == 1024 * 784
PY

# Remedies that act through the trainer change the run (a remedy that did nothing
# would leave the losses identical to the same seed without it).
"$clgan" train --iterations 20 --sample-every 0 --eval-every 0 --seed 7 --out "$tmp/base20" >/dev/null 2>&1
for r in "--instance-noise 0.5" "--label-flip 0.2" "--label-smoothing 0.2" "--steps-d 2" "--steps-g 2" \
         "--dropout-d 0.3" "--lr-d 1e-3" "--clip-grad-value 1e-4" "--weight-decay 0.5"; do
  name=$(echo "$r" | tr -d ' -.')
  "$clgan" train --iterations 20 --sample-every 0 --eval-every 0 --seed 7 $r --out "$tmp/$name" >/dev/null 2>&1
  check "$r runs" test -s "$tmp/$name/generator_loss.npy"
  check "$r changes the run" bash -c "! cmp -s '$tmp/base20/generator_loss.npy' '$tmp/$name/generator_loss.npy'"
done

echo "cli_train: $passed passed, $fail failed"
[ $fail -eq 0 ]
