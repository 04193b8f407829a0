#!/usr/bin/python3
"""Side-by-side speed of clgan and PyTorch on the same machine, in one run.

Runs `clgan bench` (the Keras-GAN MLP GAN recipe) and tools/bench_torch.py (the same
recipe as a PyTorch user writes it, at each thread setting; the best one is kept) for
each batch size, alternating the two for --rounds rounds, and prints the ratio
clgan it/s / PyTorch's best it/s from each side's best round. (A shared or virtual
machine has slow phases that last longer than one run; alternating and keeping each
side's best compares the two at the machine's same, undisturbed speed.)

Usage:
  tools/bench_compare.py                          # batch 32 and 128, the CPU device
  tools/bench_compare.py --device 0 --batch 32 --iterations 500 --clgan build/clgan

Benchmarks, not tests: run it on an otherwise idle machine. PyTorch needs Debian's
python3-torch with libopenblas0-pthread (tools/install-deps.sh --extras).
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def clgan_bench(exe, device, batch, iters, extra):
    cmd = [exe, "bench", "--device", device, "--batch", str(batch), "--iterations", str(iters)] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].isdigit():
            # dev name... gemm batch it/s images/s gflops start
            return {"it_per_s": float(f[-4]), "gflops": float(f[-2]), "gemm": f[-6], "line": line}
    sys.exit("bench_compare: could not read clgan bench output:\n" + out)


def torch_bench(batch, iters, threads):
    cmd = [sys.executable, os.path.join(HERE, "bench_torch.py"), "--batch", str(batch),
           "--iterations", str(iters), "--threads", threads, "--json"]
    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return max(res, key=lambda r: r["it_per_s"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clgan", default=os.path.join(REPO, "build", "clgan"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", default="32,128")
    ap.add_argument("--iterations", type=int, default=400)
    ap.add_argument("--threads", default="default,1,2", help="PyTorch thread settings to try")
    ap.add_argument("--gemm", default=None, help="pass --gemm to clgan bench")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of both; each side's best is kept (default 3)")
    args = ap.parse_args()
    extra = ["--gemm", args.gemm] if args.gemm else []
    for b in [int(x) for x in args.batch.split(",")]:
        cs, ts = [], []
        for _ in range(max(1, args.rounds)):
            cs.append(clgan_bench(args.clgan, args.device, b, args.iterations, extra))
            ts.append(torch_bench(b, args.iterations, args.threads))
        c = max(cs, key=lambda r: r["it_per_s"])
        t = max(ts, key=lambda r: r["it_per_s"])
        print("batch %4d: clgan %8.1f it/s (gemm %s, %.0f GEMM GFLOP/s) | PyTorch %8.1f it/s "
              "(threads %s) | ratio %.2fx   [rounds: clgan %s; PyTorch %s]"
              % (b, c["it_per_s"], c["gemm"], c["gflops"], t["it_per_s"], t.get("threads"),
                 c["it_per_s"] / t["it_per_s"],
                 " ".join("%.0f" % r["it_per_s"] for r in cs),
                 " ".join("%.0f" % r["it_per_s"] for r in ts)), flush=True)


if __name__ == "__main__":
    main()
