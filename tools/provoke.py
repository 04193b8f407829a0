#!/usr/bin/python3
"""provoke.py - the provocation suite: short clgan runs that provoke each training failure
several independent ways (and at least as many healthy runs), labelled by the rules in
tools/provoke_labels.py from the raw measurements, then scored against what the
detectors say (`clgan diagnose --json`, which must agree with the live diagnoses.json).

    nice /usr/bin/python3 tools/provoke.py --half heldout --jobs 2 --out build/provoke
    /usr/bin/python3 tools/provoke.py --list          # the matrix and each run's half

The matrix is split deterministically by *way* (a provoking configuration), not by seed:
within each intended class, half the ways tune the detectors and the other half are held
out, so the held-out table measures configurations the thresholds never saw.
--fast runs the small subset ctest uses (one way per class, one seed, short) and exits
non-zero when a labelled failure is missed, a healthy run raises an alarm, or live and
afterwards disagree. Does not build clgan; does not change any file outside --out.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provoke_labels  # noqa: E402

CLASSES = provoke_labels.CLASSES
DETECTOR = {  # detector id -> the class it names
    "exploding_gradients": "exploding",
    "dead_training": "dead",
    "vanishing_gradients": "vanishing",
    "d_too_strong": "d_too_strong",
    "d_too_weak": "d_too_weak",
    "mode_collapse": "mode_collapse",
}

# (intended class, way, flags). Every run also gets --seed, --out, --sample-every 0 and
# the suite's defaults below unless its flags set them.
DEFAULTS = {"--iterations": "600", "--eval-every": "200"}
MATRIX = [
    # exploding: NaN/Inf, weights or updates blowing up (overflowing or saturating)
    ("exploding", "sgd-lsgan-overshoot", "--optimizer sgd --lr-g 0.005 --lr-d 0.03 --loss lsgan"),
    ("exploding", "adam-lr-0.02", "--lr 0.02"),
    ("exploding", "sgd-momentum-bce", "--optimizer sgd --momentum 0.9 --lr 0.5"),
    ("exploding", "wgan-unconstrained", "--loss wasserstein --optimizer rmsprop --lr 0.001 --adam-shared-step off"),
    ("exploding", "hinge-sgd-nobn", "--loss hinge --optimizer sgd --lr 0.2 --batchnorm-g off"),
    ("exploding", "rmsprop-relu-nobn", "--optimizer rmsprop --lr 0.01 --activation relu --batchnorm-g off"),
    # dead: D saturated for real and fake, gradients zero, losses pinned
    ("dead", "adam-lr-d-0.05", "--lr-d 0.05"),
    ("dead", "sigmoid-d-fast", "--activation-d sigmoid --lr-d 0.01"),
    ("dead", "sgd-d-huge-step", "--optimizer-d sgd --lr-d 5"),
    ("dead", "short-no-eval", "--lr-d 0.05 --iterations 300 --eval-every 0"),
    ("dead", "relu-d-fast", "--activation-d relu --lr-d 0.02 --batch 64"),
    # vanishing: across depth, or over time
    ("vanishing", "minimax-fast-d", "--g-loss minimax --lr-d 0.001"),
    ("vanishing", "deep-sigmoid-g", "--activation-g sigmoid --batchnorm-g off --layers-g 256,256,256,256,256,256"),
    ("vanishing", "deep-tanh-g", "--activation-g tanh --batchnorm-g off --layers-g 128,128,128,128,128,128,128,128"),
    ("vanishing", "deep-sigmoid-d", "--activation-d sigmoid --layers-d 256,256,256,256,256,256"),
    ("vanishing", "minimax-steps-d", "--g-loss minimax --steps-d 3"),
    # D too strong
    ("d_too_strong", "lr-ratio-100", "--lr-g 0.00002 --lr-d 0.002"),
    ("d_too_strong", "steps-d-5", "--steps-d 5"),
    ("d_too_strong", "tiny-g", "--layers-g 16 --batchnorm-g off"),
    ("d_too_strong", "lsgan-fast-d", "--loss lsgan --lr-g 0.00005 --lr-d 0.002"),
    ("d_too_strong", "hinge-steps-d", "--loss hinge --steps-d 5 --lr-d 0.0005"),
    ("d_too_strong", "sgd-g", "--optimizer-g sgd --lr-g 0.001"),
    # D too weak
    ("d_too_weak", "lr-d-1e-6", "--lr-d 0.000001"),
    ("d_too_weak", "dropout-d-0.9", "--dropout-d 0.9"),
    ("d_too_weak", "label-flip-0.45", "--label-flip 0.45"),
    ("d_too_weak", "instance-noise-3", "--instance-noise 3 --instance-noise-decay 1000000"),
    ("d_too_weak", "steps-g-5-slow-d", "--steps-g 5 --lr-d 0.00002"),
    ("d_too_weak", "tiny-slow-d", "--layers-d 2 --lr-d 0.00001"),
    # mode collapse (also temporary)
    ("mode_collapse", "fast-g-beta0.9", "--lr-g 0.001 --beta1-g 0.9 --batchnorm-g off"),
    ("mode_collapse", "fast-g-2e-3", "--lr-g 0.002 --batchnorm-g off"),
    ("mode_collapse", "steps-g-5-nobn", "--steps-g 5 --batchnorm-g off"),
    ("mode_collapse", "lsgan-fast-g", "--loss lsgan --lr-g 0.001 --beta1-g 0.9 --batchnorm-g off"),
    ("mode_collapse", "hinge-fast-g", "--loss hinge --lr-g 0.001 --beta1-g 0.9 --batchnorm-g off"),
    ("mode_collapse", "latent-2-fast-g", "--latent 2 --lr-g 0.001 --batchnorm-g off"),
    # healthy: every preset, batch 16-256, sane learning rates and common variations
    ("healthy", "preset-keras-gan", "--preset keras-gan --iterations 600"),
    ("healthy", "preset-ttur", "--preset ttur --iterations 600"),
    ("healthy", "preset-lsgan", "--preset lsgan --iterations 600"),
    ("healthy", "preset-hinge", "--preset hinge --iterations 600"),
    ("healthy", "preset-residual", "--preset residual --iterations 600"),
    ("healthy", "preset-wgan-gp", "--preset wgan-gp --iterations 400"),
    ("healthy", "preset-wgan", "--preset wgan --iterations 400"),
    ("healthy", "preset-minimax", "--preset minimax --iterations 600"),
    ("healthy", "batch-16", "--batch 16 --iterations 800"),
    ("healthy", "batch-64", "--batch 64"),
    ("healthy", "batch-128", "--batch 128 --iterations 400"),
    ("healthy", "batch-256", "--batch 256 --iterations 300 --eval-every 100"),
    ("healthy", "lr-1e-4", "--lr 0.0001 --iterations 800"),
    ("healthy", "lr-4e-4", "--lr 0.0004"),
    ("healthy", "bn-d", "--batchnorm-d on"),
    ("healthy", "dropout-d-0.3", "--dropout-d 0.3"),
    ("healthy", "label-smoothing", "--label-smoothing 0.1"),
    ("healthy", "rmsprop-1e-4", "--optimizer rmsprop --lr 0.0001"),
    ("healthy", "relu", "--activation relu"),
    ("healthy", "bce-logits", "--loss bce-logits"),
    ("healthy", "small-nets", "--layers-g 128,256 --layers-d 256,128 --iterations 1000"),
    ("healthy", "deep-g-bn", "--layers-g 256,256,256,256,256,256"),
    ("healthy", "sgd-momentum", "--optimizer sgd --momentum 0.9 --lr 0.01"),
    ("healthy", "ttur-lsgan", "--preset ttur --loss lsgan"),
]
SEEDS = (1, 2, 3)

# --fast: one way per class from the tuning half, one seed, kept short (ctest).
FAST = [
    ("exploding", "sgd-lsgan-overshoot", "--iterations 300"),
    ("dead", "short-no-eval", ""),
    ("vanishing", "deep-sigmoid-g", "--iterations 300 --eval-every 0"),
    ("d_too_strong", "sgd-g", "--iterations 700 --eval-every 0"),
    ("d_too_weak", "tiny-slow-d", "--iterations 400 --eval-every 200"),
    ("mode_collapse", "lsgan-fast-g", "--iterations 600 --eval-every 200"),
    ("healthy", "preset-keras-gan", "--iterations 600 --eval-every 300"),
]


def half_of(cls, way):
    """'tune' or 'heldout': within each class, the ways sorted by a hash of their name
    alternate between the halves (deterministic, independent of run order)."""
    ways = sorted((w for c, w, _ in MATRIX if c == cls),
                  key=lambda w: hashlib.sha1(w.encode()).hexdigest())
    return "tune" if ways.index(way) % 2 == 0 else "heldout"


def runs(args):
    out = []
    if args.fast:
        flags = {(c, w): f for c, w, f in MATRIX}
        for cls, way, extra in FAST:
            out.append((cls, way, flags[(cls, way)] + " " + extra, 1, "fast"))
        return out
    for cls, way, flags in MATRIX:
        h = half_of(cls, way)
        if args.half not in ("all", h):
            continue
        for s in SEEDS:
            out.append((cls, way, flags, s, h))
    return out


def argv_for(flags, seed, out):
    a = flags.split()
    for k, v in DEFAULTS.items():
        if k not in a:
            a += [k, v]
    # later flags win: an extra --iterations overrides the way's own
    return a + ["--seed", str(seed), "--out", out, "--sample-every", "0"]


def train(clgan, cls, way, flags, seed, half, root, reuse):
    name = "%s.%s.s%d" % (cls, way, seed)
    d = os.path.join(root, name)
    done = os.path.join(d, "diagnoses.json")
    t0 = time.time()
    rc = None
    if not (reuse and os.path.exists(done)):
        subprocess.run(["rm", "-rf", d])
        with open(d + ".log", "w") as log:
            rc = subprocess.run([clgan, "train"] + argv_for(flags, seed, d), stdout=log,
                                stderr=subprocess.STDOUT).returncode
    return name, d, time.time() - t0, rc


def detected(clgan, d):
    """(ids from `clgan diagnose --json`, ids from the live diagnoses.json, whether the two
    documents agree on every diagnosis' id, severity, onset, end and recovery)."""
    p = subprocess.run([clgan, "diagnose", "--json", d], capture_output=True, text=True)
    after = json.loads(p.stdout) if p.returncode == 0 else {"diagnoses": []}
    try:
        live = json.load(open(os.path.join(d, "diagnoses.json")))
    except (OSError, ValueError):
        live = {"diagnoses": []}
    key = lambda x: (x.get("id"), x.get("severity"), x.get("onset"), x.get("end", x.get("last")),
                     x.get("recovered"))
    agree = [key(x) for x in after["diagnoses"]] == [key(x) for x in live["diagnoses"]]
    alarms = lambda doc: {x["id"] for x in doc["diagnoses"] if x.get("severity") != "info"}
    return alarms(after), alarms(live), agree, after["diagnoses"]


def score(results, classes):
    """Per class: runs labelled with it, detector firings, TP, FP, FN; healthy false alarms."""
    rows = []
    for c in classes:
        tp = sum(1 for r in results if c in r["labels"] and c in r["found"])
        fn = sum(1 for r in results if c in r["labels"] and c not in r["found"])
        fp = sum(1 for r in results if c not in r["labels"] and c in r["found"])
        rows.append((c, tp + fn, tp, fp, fn))
    healthy = [r for r in results if not r["labels"]]
    alarmed = [r for r in healthy if r["found"]]
    return rows, healthy, alarmed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clgan", default=os.path.join(os.path.dirname(__file__), "..", "build", "clgan"))
    ap.add_argument("--out", default="build/provoke")
    ap.add_argument("--half", choices=("tune", "heldout", "all"), default="tune")
    ap.add_argument("--fast", action="store_true", help="the ctest subset; exit 1 on any miss")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--reuse", action="store_true", help="keep runs that already finished")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--json", help="write every run's labels, detections and evidence here")
    ap.add_argument("--original-rules", action="store_true",
                    help="label with the rules as first committed (see provoke_labels.py)")
    args = ap.parse_args()
    provoke_labels.ORIGINAL_RULES = args.original_rules
    todo = runs(args)
    if args.list:
        for cls, way, flags, seed, half in todo:
            print("%-8s %-14s %-22s s%d  %s" % (half, cls, way, seed, flags))
        print("%d runs" % len(todo))
        return 0
    os.makedirs(args.out, exist_ok=True)
    clgan = os.path.abspath(args.clgan)
    t0 = time.time()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        done = list(ex.map(lambda r: train(clgan, *r, args.out, args.reuse), todo))
    results = []
    for (cls, way, flags, seed, half), (name, d, secs, rc) in zip(todo, done):
        labels, why = provoke_labels.labels(d)
        found_after, found_live, agree, diags = detected(clgan, d)
        found = {DETECTOR[i] for i in found_after if i in DETECTOR}
        results.append({"run": name, "intended": cls, "half": half, "flags": flags,
                        "labels": sorted(labels), "why": why, "found": sorted(found),
                        "live_agrees": agree and found_after == found_live, "seconds": round(secs, 1),
                        "exit": rc, "diagnoses": diags})
    wall = time.time() - t0
    for r in results:
        mark = "" if set(r["labels"]) == set(r["found"]) else "  <-- differs"
        print("%-40s labels %-28s found %-28s%s%s" % (r["run"], ",".join(r["labels"]) or "healthy",
              ",".join(r["found"]) or "-", "" if r["live_agrees"] else "  LIVE DISAGREES", mark))
    rows, healthy, alarmed = score(results, CLASSES)
    print("\n| class | labelled runs | detected (TP) | false alarms (FP) | missed (FN) | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for c, n, tp, fp, fn in rows:
        prec = "%.0f%%" % (100.0 * tp / (tp + fp)) if tp + fp else "-"
        rec = "%.0f%%" % (100.0 * tp / n) if n else "-"
        print("| %s | %d | %d | %d | %d | %s | %s |" % (c, n, tp, fp, fn, prec, rec))
    print("| healthy (no label) | %d | | %d with any alarm | | | %s without |" %
          (len(healthy), len(alarmed), "%.0f%%" % (100.0 * (len(healthy) - len(alarmed)) / len(healthy))
           if healthy else "-"))
    print("\nBy provoking configuration (intended class -> runs whose labels include it):")
    for c in CLASSES + ["healthy"]:
        mine = [r for r in results if r["intended"] == c]
        if mine:
            got = [r for r in mine if (c in r["labels"]) or (c == "healthy" and not r["labels"])]
            print("  %-14s %d of %d runs%s" % (c, len(got), len(mine), "" if len(got) == len(mine) else
                  " (not: " + ", ".join("%s=%s" % (r["run"], ",".join(r["labels"]) or "healthy")
                                        for r in mine if r not in got) + ")"))
    disagree = [r["run"] for r in results if not r["live_agrees"]]
    cpu = os.times()
    print("\n%d runs (%s half) in %.0f s (%.0f s of CPU); live and `clgan diagnose` agree on %d "
          "of %d%s" % (len(results), "fast" if args.fast else args.half, wall,
                       cpu.children_user + cpu.children_system, len(results) - len(disagree),
                       len(results), (": differ on " + ", ".join(disagree)) if disagree else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.fast:
        bad = [r["run"] for r in results if set(r["labels"]) - set(r["found"])]
        bad += [r["run"] for r in healthy if r["found"]] + disagree
        # a run that hit NaN/Inf ends with exit status 1 (every output written), others 0
        bad += [r["run"] for r in results if r["exit"] != (1 if "NaN" in r["why"].get("exploding", "") else 0)]
        unlabelled = [r["run"] for r in results if r["intended"] != "healthy" and r["intended"] not in r["labels"]]
        if unlabelled:
            print("provocations that did not provoke their class (by the label rules): " + ", ".join(unlabelled))
        if bad or unlabelled:
            print("FAIL: " + ", ".join(sorted(set(bad + unlabelled))))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
