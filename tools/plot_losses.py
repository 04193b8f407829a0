#!/usr/bin/python3
"""Plot the per-iteration losses of a clgan training run.

Reads RUN_DIR/discriminator_loss.npy and RUN_DIR/generator_loss.npy (float32, one
value per iteration, as written by `clgan train`) and the loss kind from
RUN_DIR/config.ini, and writes two PNGs into RUN_DIR:
  losses.png         D and G loss vs iteration, linear axis
  losses_symlog.png  the same on a symmetric log axis: linear near 0, logarithmic
                     beyond, for either sign, so spikes do not flatten the rest and
                     negative losses (a Wasserstein critic's, hinge's G) keep their curve
Each axis names what its numbers are for the run's loss (binary cross-entropy, least
squares, hinge, the critic's Wasserstein estimate). Prints the paths. Exits with
status 2 and a one-line message if an input file is missing or unreadable.

Usage:
  tools/plot_losses.py runs/mnist_gan
  tools/plot_losses.py runs/mnist_gan --title "MNIST, batch 32"
  tools/plot_losses.py runs/old_run --loss wasserstein   # a run without config.ini
"""

import argparse
import configparser
import os
import sys

import numpy as np

# What D's and G's numbers are, per --loss (clgan's cl/loss.cl banner has the formulas;
# D's loss is the mean of its real and fake terms, as Keras-GAN prints it).
LOSSES = {
    "bce": ("binary cross-entropy", "D: mean of BCE on real and on fake",
            "G: -log D(G(z)) (non-saturating)"),
    "bce-logits": ("binary cross-entropy (from logits)", "D: mean of BCE on real and on fake",
                   "G: -log D(G(z)) (non-saturating)"),
    "lsgan": ("least squares", "D: mean of 0.5 (D(x) - 1)^2 and 0.5 D(G(z))^2",
              "G: 0.5 (D(G(z)) - 1)^2"),
    "hinge": ("hinge loss", "D: mean of relu(1 - D(x)) and relu(1 + D(G(z)))", "G: -D(G(z))"),
    "wasserstein": ("Wasserstein critic loss", "D: (D(G(z)) - D(x)) / 2, minus half the W estimate",
                    "G: -D(G(z))"),
}
MINIMAX_G = "G: log(1 - D(G(z))) (saturating minimax)"


def load(path):
    if not os.path.isfile(path):
        raise FileNotFoundError("missing %s" % path)
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError("cannot read %s as a .npy array (%s)" % (path, e))
    return np.asarray(a, dtype=np.float64).reshape(-1)


def run_loss(run_dir):
    """(loss, g-loss) of RUN_DIR/config.ini's [train], or (None, None) without one."""
    path = os.path.join(run_dir, "config.ini")
    if not os.path.isfile(path):
        return None, None
    cp = configparser.ConfigParser(comment_prefixes=("#", ";"), inline_comment_prefixes=None)
    try:
        cp.read(path)
    except configparser.Error as e:
        raise ValueError("cannot read %s (%s)" % (path, e))
    return cp.get("train", "loss", fallback=None), cp.get("train", "g-loss", fallback=None)


def symlog_threshold(*series):
    """The linear range of the symmetric log axis: the 10th percentile of the non-zero
    magnitudes, within [1e-4, 1], so typical values sit in the logarithmic part."""
    v = np.abs(np.concatenate([s[np.isfinite(s)] for s in series] or [np.zeros(0)]))
    v = v[v > 0]
    if v.size == 0:
        return 1.0
    return float(np.clip(np.percentile(v, 10), 1e-4, 1.0))


def figure(x, d, g, title, loss, symlog, minimax=False):
    """The loss plot as a matplotlib figure (Agg); the caller saves and closes it."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    what, dl, gl = LOSSES.get(loss, ("loss", "discriminator", "generator"))
    if minimax and loss.startswith("bce"):
        gl = MINIMAX_G
    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    lw = 0.8 if max(len(d), len(g)) > 2000 else 1.2
    ax.plot(x[:len(d)], d, label=dl, linewidth=lw, color="tab:blue")
    ax.plot(x[:len(g)], g, label=gl, linewidth=lw, color="tab:orange", alpha=0.85)
    if symlog:
        t = symlog_threshold(d, g)
        ax.set_yscale("symlog", linthresh=t)
        ax.axhspan(-t, t, color="0.93", zorder=0, label="linear range |y| < %.3g" % t)
        title += ", symmetric log axis"
    if np.nanmin(np.concatenate([d, g, [0.0]])) < 0:
        ax.axhline(0.0, color="0.5", linewidth=0.6)
    ax.set_title(title)
    ax.set_xlabel("iteration")
    ax.set_ylabel(what + (" (symmetric log)" if symlog else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", help="run directory holding discriminator_loss.npy and generator_loss.npy")
    ap.add_argument("--title", default=None, help="title prefix (default: the run directory name)")
    ap.add_argument("--loss", choices=sorted(LOSSES), default=None,
                    help="the run's loss (default: config.ini's [train] loss)")
    args = ap.parse_args(argv)

    try:
        d = load(os.path.join(args.run_dir, "discriminator_loss.npy"))
        g = load(os.path.join(args.run_dir, "generator_loss.npy"))
        cfg_loss, g_loss = run_loss(args.run_dir)
        loss = args.loss or cfg_loss or "bce"
    except (OSError, ValueError) as e:
        print("plot_losses: %s" % e, file=sys.stderr)
        return 2
    if loss not in LOSSES:
        print("plot_losses: unknown loss %r in config.ini (known: %s)" % (loss, ", ".join(sorted(LOSSES))),
              file=sys.stderr)
        return 2

    import matplotlib.pyplot as plt
    name = args.title or os.path.basename(os.path.normpath(os.path.abspath(args.run_dir)))
    x = np.arange(max(len(d), len(g)))
    outs = []
    for symlog, fname in ((False, "losses.png"), (True, "losses_symlog.png")):
        fig = figure(x, d, g, "%s: GAN losses (%s)" % (name, loss), loss, symlog, g_loss == "minimax")
        path = os.path.join(args.run_dir, fname)
        fig.savefig(path)
        plt.close(fig)
        outs.append(path)
    for p in outs:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
