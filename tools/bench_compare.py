#!/usr/bin/python3
"""Side-by-side speed of clgan and PyTorch on the same machine, in one run.

Runs `clgan bench --json` (the Keras-GAN MLP recipe, or --preset NAME's) and
tools/bench_torch.py (the same recipe as a PyTorch user writes it, at each thread setting;
the best one is kept) for each batch size, alternating the two for --rounds rounds, and
prints the ratio clgan it/s / PyTorch's best it/s from each side's best round. (A shared
or virtual machine has slow phases that last longer than one run; alternating and keeping
each side's best compares the two at the machine's same, undisturbed speed.) Per side:
it/s (clgan: the median of its --repeats runs), GEMM GFLOP/s and, for clgan, the share of
the device's FP32 peak that is (its own probe); for PyTorch the GFLOP/s of the same
products (tools/torch_preset.py counts them; not for the MLP recipe or a WGAN-GP penalty).

PyTorch gets its best setting: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from
its environment (this machine sets them; they force a kernel set on OpenBLAS), so
OpenBLAS picks its own kernels; clgan runs with the environment as inherited. The header
says which environment each side ran with. --peer-env inherit keeps them for PyTorch too.

Usage:
  tools/bench_compare.py                          # MLP recipe, batch 32 and 128, the CPU device
  tools/bench_compare.py --preset dcgan-keras --batch 32,64
  tools/bench_compare.py --device 0 --batch 32 --iterations 500 --clgan build/clgan

Benchmarks, not tests: run it on an otherwise idle machine. PyTorch needs Debian's
python3-torch with libopenblas0-pthread (tools/install-deps.sh --extras).
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PEER_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SHOWN = PEER_UNSET + ("OMP_NUM_THREADS",)


def fail(msg):
    print("bench_compare: " + msg, file=sys.stderr)
    sys.exit(2)


def run_json(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        fail("%s failed (exit %d): %s" % (" ".join(cmd[:3]), p.returncode,
                                          (p.stderr.strip() or p.stdout.strip())[-2000:]))
    try:
        return json.loads(p.stdout)
    except ValueError:
        fail("%s printed no JSON: %s" % (" ".join(cmd[:3]), p.stdout[-2000:]))


def clgan_bench(args, batch, extra):
    cmd = [args.clgan, "bench", "--json", "--device", args.device, "--batch", str(batch),
           "--iterations", str(args.iterations), "--warmup", str(args.warmup),
           "--repeats", str(args.repeats)] + extra
    doc = run_json(cmd)
    best = None
    for d in doc.get("devices", []):
        for r in d.get("results", []):
            if r.get("batch") == batch and (best is None or r["it_s_median"] > best["it_per_s"]):
                best = {"it_per_s": r["it_s_median"], "gflops": r.get("gemm_gflops"),
                        "pct_peak": r.get("percent_of_peak"), "gemm": d.get("gemm"),
                        "device": d.get("name"), "peak": d.get("peak_gflops"),
                        "ms_per_it": r.get("ms_per_iteration")}
    if best is None:
        fail("clgan bench --json has no result for batch %d" % batch)
    return best


def torch_bench(args, batch, env):
    cmd = [sys.executable, os.path.join(HERE, "bench_torch.py"), "--batch", str(batch),
           "--iterations", str(args.iterations), "--warmup", str(args.warmup),
           "--threads", args.threads, "--json"]
    if args.preset:
        cmd += ["--preset", args.preset]
    if args.image_size:
        cmd += ["--image-size", str(args.image_size)]
    res = run_json(cmd, env)
    return max(res, key=lambda r: r["it_per_s"])


def env_text(env):
    return ", ".join("%s=%s" % (k, env[k] if k in env else "(unset)") for k in SHOWN)


def fmt_gf(gf, pct=None):
    if gf is None:
        return "GFLOP/s n/a"
    return "%.0f GEMM GFLOP/s%s" % (gf, "" if pct is None else ", %.0f%% of peak" % pct)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clgan", default=os.path.join(REPO, "build", "clgan"))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", help="the recipe: a clgan preset (e.g. dcgan-keras); "
                                     "default the Keras-GAN MLP")
    ap.add_argument("--image-size", type=int, help="image side for both (dcgan-32: 32)")
    ap.add_argument("--batch", default="32,128")
    ap.add_argument("--iterations", type=int,
                    help="timed iterations per run (default 400; 100 with --preset)")
    ap.add_argument("--warmup", type=int, default=20, help="warm-up iterations, both sides")
    ap.add_argument("--repeats", type=int, default=1,
                    help="clgan bench --repeats per round (its median is used; default 1)")
    ap.add_argument("--threads", default="default,1,2", help="PyTorch thread settings to try")
    ap.add_argument("--gemm", default=None, help="pass --gemm to clgan bench")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating rounds of both; each side's best is kept (default 3)")
    ap.add_argument("--peer-env", choices=["clean", "inherit"], default="clean",
                    help="PyTorch's environment: clean removes %s (default), inherit keeps them"
                         % " and ".join(PEER_UNSET))
    args = ap.parse_args()
    if args.iterations is None:
        args.iterations = 100 if args.preset else 400
    extra = ["--gemm", args.gemm] if args.gemm else []
    if args.preset:
        extra += ["--preset", args.preset]
    if args.image_size:
        extra += ["--image-size", str(args.image_size)]
    peer_env = dict(os.environ)
    if args.peer_env == "clean":
        for k in PEER_UNSET:
            peer_env.pop(k, None)

    print("# recipe %s, %d timed iterations after %d warm-up, %d alternating rounds, each side's best"
          % (args.preset or "keras-gan (MLP)", args.iterations, args.warmup, args.rounds))
    print("# clgan:   %s bench --device %s%s; environment: %s"
          % (args.clgan, args.device, "".join(" " + e for e in extra), env_text(os.environ)))
    print("# PyTorch: %s tools/bench_torch.py --threads %s; environment: %s"
          % (sys.executable, args.threads, env_text(peer_env)), flush=True)
    shown = False
    for b in [int(x) for x in args.batch.split(",")]:
        cs, ts = [], []
        for _ in range(max(1, args.rounds)):
            cs.append(clgan_bench(args, b, extra))
            ts.append(torch_bench(args, b, peer_env))
        c = max(cs, key=lambda r: r["it_per_s"])
        t = max(ts, key=lambda r: r["it_per_s"])
        if not shown:
            print("# clgan device %s (gemm %s, FP32 peak %.0f GFLOP/s by its probe); PyTorch %s, "
                  "BLAS %s (core %s), oneDNN %s"
                  % (c["device"], c["gemm"], c["peak"] or 0, t.get("torch_version"),
                     os.path.basename(t.get("blas", "?")), t.get("blas_core"), t.get("onednn")),
                  flush=True)
            shown = True
        print("batch %4d: clgan %8.2f it/s (%s) | PyTorch %8.2f it/s (threads %s, %s) | "
              "ratio %.2fx   [rounds: clgan %s; PyTorch %s]"
              % (b, c["it_per_s"], fmt_gf(c["gflops"], c["pct_peak"]), t["it_per_s"],
                 t.get("threads"), fmt_gf(t.get("gflops")), c["it_per_s"] / t["it_per_s"],
                 " ".join("%.2f" % r["it_per_s"] for r in cs),
                 " ".join("%.2f" % r["it_per_s"] for r in ts)), flush=True)
        if c.get("ms_per_it") and c.get("gflops") and t.get("gflop_per_it"):
            print("            GFLOP per iteration: clgan %.2f, PyTorch %.2f (the same products "
                  "counted on each side)" % (c["gflops"] * c["ms_per_it"] * 1e-3, t["gflop_per_it"]))


if __name__ == "__main__":
    main()
