#!/usr/bin/env bash
# cli_data.sh CLGAN TMPDIR - `clgan train --data DIR` on a directory of PNGs made here (every
# PNG kind, several sizes, and junk: text, empty, truncated, a subdirectory, a FIFO):
# 20 iterations of the default MLP recipe in gray and in RGB; the junk is reported and
# counted; RGB grids, GIF and `clgan sample` outputs decode back as RGB; a checkpoint from
# before RGB (no img_c) still samples; a directory with nothing readable is exit 2 with
# one line; --data fashion still trains when Debian's dataset-fashion-mnist is installed.
# Needs /usr/bin/python3 with PIL and numpy (tools/install-deps.sh).
set -u
clgan=$1 tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
check() { # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
py=/usr/bin/python3
d=$tmp/pngs

$py - "$d" <<'PY'
import os, sys, random
import numpy as np
from PIL import Image
d = sys.argv[1]; os.makedirs(d)
random.seed(3)
sizes = [(12, 12), (20, 12), (9, 30), (8, 8)]
modes = ["L", "RGB", "RGBA", "LA", "P", "I;16"]
for i in range(36):
    w, h = sizes[i % 4]
    base = Image.new("RGB", (w, h))
    px = base.load()
    c = (random.randrange(256), random.randrange(256), random.randrange(256))
    for y in range(h):
        for x in range(w):
            px[x, y] = tuple((v + 9 * x + 5 * y) % 256 for v in c)
    m = modes[i % 6]
    if m == "P":
        im = base.convert("P", palette=Image.ADAPTIVE)
    elif m == "I;16":  # 16-bit gray
        im = Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257)
    else:
        im = base.convert(m)
    im.save(os.path.join(d, "img%02d.png" % i))
open(os.path.join(d, "notes.txt"), "w").write("not an image\n")
open(os.path.join(d, "empty.png"), "w").close()
b = open(os.path.join(d, "img00.png"), "rb").read()
open(os.path.join(d, "trunc.png"), "wb").write(b[: len(b) // 2])
os.mkdir(os.path.join(d, "subdir"))
os.mkfifo(os.path.join(d, "fifo.png"))
PY

run() { # run NAME FLAGS...: 20 iterations of the default recipe on 8x8 images
  "$clgan" train --data "$d" --image-size 8 --iterations 20 --batch 8 --sample-every 10 \
    --log-every 10 --out "$tmp/$1" "${@:2}" >"$tmp/$1.log" 2>&1
}
check "train gray on PNGs" run gray --channels 1
cat "$tmp/gray.log"
check "train RGB on PNGs" run rgb --channels 3
check "the data line says 36 images 8x8x1" grep -q "36 images 8x8x1" "$tmp/gray.log"
check "the data line says 8x8x3" grep -q "36 images 8x8x3" "$tmp/rgb.log"
check "5 junk entries reported with a count" grep -q "skipped 5 entries" "$tmp/gray.log"
check "each junk entry named (FIFO)" grep -q "fifo.png: a FIFO" "$tmp/gray.log"
check "colour dropped is said (gray run)" grep -q "converted to gray" "$tmp/gray.log"
check "not said when RGB is kept" bash -c "! grep -q 'converted to gray' '$tmp/rgb.log'"
check "scores off, said" grep -q "sample scores off" "$tmp/rgb.log"
check "config.ini keeps channels and size" bash -c \
  "grep -q '^channels = 3' '$tmp/rgb/config.ini' && grep -q '^image-size = 8' '$tmp/rgb/config.ini'"

check "grids and GIF decode: gray L, RGB RGB, 3 frames each, GIF frames match the PNGs" \
  $py - "$tmp/gray" "$tmp/rgb" <<'PY'
import sys, numpy as np
from PIL import Image, ImageSequence
for run, mode in ((sys.argv[1], "L"), (sys.argv[2], "RGB")):
    pngs = [Image.open("%s/images/%d.png" % (run, it)) for it in (0, 10, 20)]
    for p in pngs:
        assert p.mode == mode and p.size == (48, 48 + 9), (run, p.mode, p.size)  # 5*8 + 4*2, caption
    gif = Image.open(run + "/training.gif")
    frames = [f.convert("RGB") for f in ImageSequence.Iterator(gif)]
    assert len(frames) == 3 and gif.size == (48, 48 + 9), (len(frames), gif.size)
    for f, p in zip(frames, pngs):
        a = np.asarray(f, dtype=float); b = np.asarray(p.convert("RGB"), dtype=float)
        err = np.abs(a - b).mean()
        # gray frames are exact; RGB frames carry a 256-colour palette each
        assert err == 0 if mode == "L" else err < 12, (run, err)
    if mode == "RGB":
        b = np.asarray(pngs[-1], dtype=float)
        spread = np.abs(b[..., 0] - b[..., 1]).mean() + np.abs(b[..., 1] - b[..., 2]).mean()
        assert spread > 1, "the RGB grid is gray"
        f = np.asarray(frames[-1], dtype=float)
        assert np.abs(f[..., 0] - f[..., 1]).mean() + np.abs(f[..., 1] - f[..., 2]).mean() > 1
print("grids and GIFs ok")
PY

check "report embeds the RGB grids as they are" bash -c \
  "'$clgan' report '$tmp/rgb' >/dev/null && $py - '$tmp/rgb/report.html'" <<'PY'
import sys, re, base64, io
from PIL import Image
html = open(sys.argv[1]).read()
pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
assert len(pngs) == 3, len(pngs)
assert all(Image.open(io.BytesIO(base64.b64decode(p))).mode == "RGB" for p in pngs)
assert "data:image/gif;base64," in html
PY

check "sample: RGB grid and (N, H, W, 3) array" bash -c \
  "'$clgan' sample --checkpoint '$tmp/rgb/generator.safetensors' --n 9 --out '$tmp/s.png' >/dev/null &&
   '$clgan' sample --checkpoint '$tmp/rgb/generator.safetensors' --n 9 --out '$tmp/s.npy' >/dev/null"
check "sample outputs decode as RGB" $py - "$tmp" <<'PY'
import sys, numpy as np
from PIL import Image
t = sys.argv[1]
im = Image.open(t + "/s.png"); assert im.mode == "RGB" and im.size == (28, 28), (im.mode, im.size)
a = np.load(t + "/s.npy"); assert a.shape == (9, 8, 8, 3) and a.dtype == np.float32, a.shape
assert np.all(np.abs(a) <= 1) and a.std() > 0
PY

# A checkpoint from before RGB has no img_c: it loads as gray.
check "a checkpoint without img_c samples as gray" $py - "$tmp" <<'PY'
import sys, json, struct
t = sys.argv[1]
b = open(t + "/rgb/generator.safetensors", "rb").read()
n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
assert h["__metadata__"]["img_c"] == "3", h["__metadata__"].get("img_c")
b = open(t + "/gray/generator.safetensors", "rb").read()
n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
assert h["__metadata__"].pop("img_c") == "1"
hb = json.dumps(h).encode(); hb += b" " * (-len(hb) % 8)
open(t + "/old.safetensors", "wb").write(struct.pack("<Q", len(hb)) + hb + b[8 + n:])
PY
check "old checkpoint draws (N, H, W)" bash -c \
  "'$clgan' sample --checkpoint '$tmp/old.safetensors' --n 4 --out '$tmp/old.npy' >/dev/null &&
   $py -c \"import numpy as np; a = np.load('$tmp/old.npy'); assert a.shape == (4, 8, 8), a.shape\""

# Nothing readable: exit 2, one line, no run directory.
mkdir -p "$tmp/junk" "$tmp/none"
printf 'x' >"$tmp/junk/a.png"; : >"$tmp/junk/b.png"
for c in "junk:none of its 2 entries" "none:directory is empty"; do
  name=${c%%:*} want=${c#*:}
  "$clgan" train --data "$tmp/$name" --out "$tmp/r-$name" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$want" "$tmp/err" &&
     [ ! -e "$tmp/r-$name" ]; then passed=$((passed + 1))
  else echo "FAIL: --data $name (exit $rc):"; cat "$tmp/err"; fail=$((fail + 1)); fi
done

# A classifier for another shape is refused before training (not at the first evaluation).
"$clgan" train --data "$d" --image-size 28 --channels 3 --classifier "$here/../samples/classifier/mnist.safetensors" \
  --out "$tmp/r-cls" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "scores 28x28 gray images" "$tmp/err" &&
   [ ! -e "$tmp/r-cls" ]; then passed=$((passed + 1))
else echo "FAIL: --classifier on RGB data (exit $rc):"; cat "$tmp/err"; fail=$((fail + 1)); fi

if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  check "--data fashion trains (IDX path unchanged)" bash -c \
    "'$clgan' train --data fashion --iterations 3 --batch 8 --eval-every 0 --out '$tmp/fashion' \
       >'$tmp/fashion.log' 2>&1 && grep -q '60000 images 28x28x1' '$tmp/fashion.log'"
else
  echo "SKIP: --data fashion (dataset-fashion-mnist is not installed)"
fi

echo "cli_data: $passed passed, $fail failed"
[ $fail -eq 0 ]
