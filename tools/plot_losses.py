#!/usr/bin/python3
"""Plot the per-iteration losses of a clgan training run.

Reads RUN_DIR/discriminator_loss.npy and RUN_DIR/generator_loss.npy (float32,
one value per iteration, as written by `clgan train`) and writes two PNGs into
RUN_DIR:
  losses.png        raw D and G loss vs iteration
  losses_log1p.png  log1p(loss) of both, which keeps spikes from flattening the rest
and prints their paths.  Exits with status 2 and a one-line message if an input
file is missing or unreadable.

Usage:
  tools/plot_losses.py runs/mnist_gan
  tools/plot_losses.py runs/mnist_gan --title "MNIST, batch 32"
"""

import argparse
import os
import sys

import numpy as np


def load(path):
    if not os.path.isfile(path):
        raise FileNotFoundError("missing %s" % path)
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise ValueError("cannot read %s as a .npy array (%s)" % (path, e))
    return np.asarray(a, dtype=np.float64).reshape(-1)


def plot(x, d, g, title, ylabel, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5), dpi=100)
    lw = 0.8 if max(len(d), len(g)) > 2000 else 1.2
    ax.plot(x[:len(d)], d, label="discriminator loss", linewidth=lw, color="tab:blue")
    ax.plot(x[:len(g)], g, label="generator loss", linewidth=lw, color="tab:orange", alpha=0.85)
    ax.set_title(title)
    ax.set_xlabel("iteration")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run_dir", help="run directory holding discriminator_loss.npy and generator_loss.npy")
    ap.add_argument("--title", default=None, help="title prefix (default: the run directory name)")
    args = ap.parse_args()

    dpath = os.path.join(args.run_dir, "discriminator_loss.npy")
    gpath = os.path.join(args.run_dir, "generator_loss.npy")
    try:
        d = load(dpath)
        g = load(gpath)
    except (OSError, ValueError) as e:
        print("plot_losses: %s" % e, file=sys.stderr)
        return 2

    name = args.title or os.path.basename(os.path.normpath(os.path.abspath(args.run_dir)))
    x = np.arange(max(len(d), len(g)))
    out1 = os.path.join(args.run_dir, "losses.png")
    out2 = os.path.join(args.run_dir, "losses_log1p.png")
    plot(x, d, g, "%s: GAN losses" % name, "loss (binary cross-entropy)", out1)
    with np.errstate(invalid="ignore"):
        plot(x, np.log1p(d), np.log1p(g), "%s: GAN losses, log1p" % name, "log(1 + loss)", out2)
    print(out1)
    print(out2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
