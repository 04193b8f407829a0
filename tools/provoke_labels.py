"""provoke_labels.py - the expected label(s) of a provocation run, decided from its RAW
measurements alone (the .npy series, metrics.jsonl's gradient records, eval.jsonl,
tensors.json) by fixed rules over the WHOLE run, never by clgan's detectors.

These rules were written down and committed before the detectors were tuned (see the
git history of this file); the detectors are then scored against them on runs they
were not tuned on (tools/provoke.py --half heldout). The detectors differ from the
rules on purpose: they must decide causally, while the run goes (from the first
monitored iteration on), while a rule may look at the whole run afterwards.

A run may carry several labels (a D that wins outright can also starve G of gradient);
a run with none is healthy. Thresholds and why:

exploding     - any NaN/Inf in a loss or a measured norm; or
              - a network's global gradient norm at some record >= 100x its first
                record's and above 100 (ganhacks: gradient norms over 100 mean trouble);
                AMENDED after the tuning half, before the held-out half was run: the rule
                as first committed (7e762c5) had no absolute bar and labelled the shipped
                wgan preset 'exploding' (its clipped critic starts near 0, so G's first
                gradient norm is ~0.03 and reaches a normal 5-11); ORIGINAL_RULES = True
                restores it (tools/provoke.py --original-rules); or
              - a weight tensor (rank >= 2) whose norm at some record is >= 3x its norm at
                the first record (weights blowing up, whether they overflow or saturate;
                Adam at sane rates changes a weight matrix's norm by tens of percent over
                a few thousand steps).
dead          - in the second half of the run, >= 80% of gradient records have BOTH
                networks' global gradient norms <= 1e-6 of that network's largest over the
                run (nothing learns); or, for the bce losses, over the second half D's
                mean outputs on real and on fake are both < 0.01 (or both > 0.99) and
                both losses have a standard deviation < 1e-4 (pinned at a clip value).
vanishing     - across depth: in 3 gradient records in a row, for G or for D, the RMS
                gradient (norm / sqrt(size)) of the network's first weight tensor is
                < 1e-3 of its last weight tensor's (the last one nonzero); or
              - over time: in 3 gradient records in a row after the first, G's global
                gradient norm is < 1% of its largest in the first three records (G gets
                no signal for >= 3 records: 300 iterations at the default monitor-every);
              (neither counts when the run is dead: then every gradient is gone).
d_too_strong  - not Wasserstein: in >= 80% of the second half's 100-iteration windows
                the separation (mean D(x) - mean D(G(z))) / gap >= 0.9, gap = 2 for hinge
                (its margins are +-1), 1 otherwise (targets 1 and 0).
d_too_weak    - not Wasserstein: in >= 80% of the second half's windows the separation
                is <= 0.05, and the samples are poor at the last evaluation (fewer than 8
                of 10 classes covered or a Frechet distance above 150; noise scores
                170-290, the shipped healthy recipe < 100 by iteration 1000); without an
                evaluation, fakes must score above real data (separation < 0) instead.
              (neither imbalance counts when the run is dead: D's pinned outputs are not
                a contest any more).
mode_collapse - at some evaluation (a temporary collapse counts) the diversity is below 0.5
                of real data's (samples twice as close together as real digits), or at
                most 5 of 10 classes are covered (G misses half the modes) while the
                classifier's mean confidence is >= 0.7 (the samples are digits: blobs of
                an immature G also fall into few classes, with confidence ~0.4-0.6) and
                the diversity is below real data's (< 1; saturated garbage from a blown-up
                G can fool the classifier's confidence, but it is not less diverse).
A run that produced a NaN/Inf gets only the exploding label (what follows it is not
measured); dead excludes vanishing (see above).
"""
import json
import math
import os

import numpy as np

CLASSES = ["exploding", "dead", "vanishing", "d_too_strong", "d_too_weak", "mode_collapse"]
ORIGINAL_RULES = False  # True: the rules exactly as first committed (see exploding)
WIN = 100


def _jsonl(path):
    for p in (path, path + ".partial"):
        if os.path.exists(p):
            return [json.loads(line) for line in open(p) if line.strip()]
    return []


def _loss(d):
    for line in open(os.path.join(d, "config.ini")):
        k, _, v = line.partition("=")
        if k.strip() == "loss":
            return v.strip()
    return "bce"


def _series(d, name):
    p = os.path.join(d, name + ".npy")
    return np.load(p).astype(np.float64) if os.path.exists(p) else np.zeros(0)


def _vals(rec, key):
    return [math.nan if v is None else float(v) for v in rec.get(key, {}).values()]


def _run3(flags):
    return any(all(flags[i:i + 3]) for i in range(len(flags) - 2))


def labels(d):
    """(set of labels, dict of the numbers each rule saw) for the run directory d."""
    loss = _loss(d)
    met = _jsonl(os.path.join(d, "metrics.jsonl"))
    ev = _jsonl(os.path.join(d, "eval.jsonl"))
    tensors = json.load(open(os.path.join(d, "tensors.json")))
    recs = [r for r in met if "monitor_iteration" in r]
    s = {k: _series(d, f) for k, f in [("dl", "discriminator_loss"), ("gl", "generator_loss"),
                                        ("dx", "d_real"), ("dg", "d_fake")]}
    n = len(s["dl"])
    why = {}
    out = set()

    # exploding
    nonfinite = any(r.get("nonfinite") for r in met) or not np.all(np.isfinite(s["dl"])) \
        or not np.all(np.isfinite(s["gl"]))
    if nonfinite:
        why["exploding"] = "NaN/Inf"
        return {"exploding"}, why
    for net in "gd":
        g = [r["%s_grad_norm" % net] for r in recs]
        if g and g[0] > 0 and max(g) >= 100 * g[0] and (ORIGINAL_RULES or max(g) > 100):
            why["exploding"] = "%s gradient norm %.3g = %.0fx its first" % (net, max(g), max(g) / g[0])
        w = np.array([_vals(r, "%s_layer_weight_norms" % net) for r in recs])
        for i, t in enumerate(tensors[net]):
            if t["ndim"] >= 2 and len(w) and w[0, i] > 0 and np.nanmax(w[:, i]) >= 3 * w[0, i]:
                why["exploding"] = "%s %s weight norm %.3gx its first" % (net, t["name"],
                                                                          np.nanmax(w[:, i]) / w[0, i])
    if "exploding" in why:
        out.add("exploding")

    late = [r for r in recs if r["monitor_iteration"] >= n / 2]

    # dead
    gmax = {net: max([r["%s_grad_norm" % net] for r in recs] or [0]) for net in "gd"}
    zero = [r for r in late if all(r["%s_grad_norm" % net] <= 1e-6 * gmax[net] for net in "gd")]
    if late and len(zero) >= 0.8 * len(late):
        why["dead"] = "%d of %d late records with every gradient ~0" % (len(zero), len(late))
    if loss in ("bce", "bce-logits") and n >= 2:
        h = slice(n // 2, n)
        dx, dg = s["dx"][h].mean(), s["dg"][h].mean()
        pinned = (dx < 0.01 and dg < 0.01) or (dx > 0.99 and dg > 0.99)
        if pinned and s["dl"][h].std() < 1e-4 and s["gl"][h].std() < 1e-4:
            why["dead"] = "D pinned (D(x) %.3g, D(G(z)) %.3g), losses flat" % (dx, dg)
    if "dead" in why:
        out.add("dead")

    # vanishing
    if "dead" not in out:
        for net in "gd":
            idx = [i for i, t in enumerate(tensors[net]) if t["ndim"] >= 2]
            if len(idx) < 2 or not recs:
                continue
            f, l = idx[0], idx[-1]
            cf, cl = tensors[net][f]["count"], tensors[net][l]["count"]
            low = []
            for r in recs:
                g = _vals(r, "%s_layer_grad_norms" % net)
                rf, rl = g[f] / math.sqrt(cf), g[l] / math.sqrt(cl)
                low.append(rl > 0 and rf < 1e-3 * rl)
            if _run3(low):
                why["vanishing"] = "%s first/last RMS gradient < 1e-3 in 3 records in a row" % net
        scale = max([r["g_grad_norm"] for r in recs[:3]] or [0])
        small = [False] + [scale > 0 and r["g_grad_norm"] < 0.01 * scale for r in recs[1:]]
        if _run3(small):
            why["vanishing"] = "G gradient < 1% of its start in 3 records in a row"

        if "vanishing" in why:
            out.add("vanishing")

    # imbalance
    if loss != "wasserstein" and n >= 2 * WIN and "dead" not in out:
        gap = 2.0 if loss == "hinge" else 1.0
        wins = [(s["dx"][a:a + WIN].mean() - s["dg"][a:a + WIN].mean()) / gap
                for a in range(0, n - WIN + 1, WIN) if a >= n / 2]
        if wins and sum(x >= 0.9 for x in wins) >= 0.8 * len(wins):
            why["d_too_strong"] = "separation >= 0.9 in %d of %d late windows" % (
                sum(x >= 0.9 for x in wins), len(wins))
            out.add("d_too_strong")
        if ev:
            poor = ev[-1]["modes_covered"] < 8 or (ev[-1]["frechet"] or 0) > 150
            weak = [x <= 0.05 for x in wins]
        else:
            poor = True
            weak = [x < 0 for x in wins]
        if wins and poor and sum(weak) >= 0.8 * len(wins):
            why["d_too_weak"] = "separation <= 0.05 in %d of %d late windows, samples poor" % (
                sum(weak), len(wins))
            out.add("d_too_weak")

    # mode collapse
    for e in ev:
        div = e["diversity"] if e["diversity"] is not None else math.nan
        if div < 0.5 or (e["modes_covered"] <= 5 and (e.get("confidence") or 0) >= 0.7 and div < 1):
            why["mode_collapse"] = "at %d: %d classes, diversity %.2f" % (e["iteration"],
                                                                         e["modes_covered"], div)
            out.add("mode_collapse")
            break
    return out, why
