#!/usr/bin/env bash
# cli_plot_losses.sh CLGAN TMPDIR - tools/plot_losses.py on synthetic runs: a Wasserstein
# run's negative losses keep their curves on the symmetric log axis (log1p of them was
# NaN and lost D's curve), each loss kind gets its own axis label (from config.ini or
# --loss), both PNGs are written, and a missing array exits 2 with one line.
set -u
tmp=$2
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$tmp" && mkdir -p "$tmp"
/usr/bin/python3 - "$here/tools/plot_losses.py" "$tmp" <<'PY'
import importlib.util, io, os, subprocess, sys
import numpy as np
tool, tmp = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("plot_losses", tool)
pl = importlib.util.module_from_spec(spec); spec.loader.exec_module(pl)
fails = []
def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok: fails.append(what)

def make_run(name, loss, d, g, write_config=True):
    d_ = os.path.join(tmp, name); os.makedirs(d_)
    np.save(os.path.join(d_, "discriminator_loss.npy"), np.asarray(d, np.float32))
    np.save(os.path.join(d_, "generator_loss.npy"), np.asarray(g, np.float32))
    if write_config:
        open(os.path.join(d_, "config.ini"), "w").write(
            "# clgan run configuration\n[train]\niterations = %d\nloss = %s\ng-loss = nonsat\nout =\n" % (len(d), loss))
    return d_

it = np.arange(400)
wd = -5 - 3 * np.tanh(it / 50.0)                    # a critic's loss: negative throughout
wg = 2 * np.sin(it / 20.0) * np.exp(it / 200.0)     # G's: both signs, growing
fig = pl.figure(it, wd, wg, "t", "wasserstein", True)
ax = fig.axes[0]
ys = [l.get_ydata() for l in ax.get_lines() if len(l.get_ydata()) == 400]
check(ax.get_yscale() == "symlog", "the second plot uses a symmetric log axis")
check(len(ys) == 2 and all(np.isfinite(y).all() for y in ys), "both curves are finite (none lost)")
check(min(y.min() for y in ys) < -5, "D's negative losses are on the plot")
lo, hi = ax.get_ylim()
check(lo < -5 and hi > 2, "the axis spans both signs (%.3g .. %.3g)" % (lo, hi))
check("Wasserstein" in ax.get_ylabel(), "Wasserstein axis label: %r" % ax.get_ylabel())
labels = {"bce": "cross-entropy", "lsgan": "least squares", "hinge": "hinge"}
for loss, word in labels.items():
    f = pl.figure(it, np.abs(wd), np.abs(wg), "t", loss, False)
    check(word in f.axes[0].get_ylabel() and f.axes[0].get_yscale() == "linear", "%s axis label" % loss)
check(0 < pl.symlog_threshold(wd, wg) <= 1 and pl.symlog_threshold(np.zeros(3)) == 1.0, "symlog threshold")

py = "/usr/bin/python3"
run = make_run("wgan", "wasserstein", wd, wg)
r = subprocess.run([py, tool, run], capture_output=True, text=True)
check(r.returncode == 0 and all(os.path.getsize(os.path.join(run, f)) > 1000 for f in ("losses.png", "losses_symlog.png")),
      "writes losses.png and losses_symlog.png (%s)" % r.stderr.strip())
run = make_run("noconfig", "", wd, wg, write_config=False)
r = subprocess.run([py, tool, run, "--loss", "hinge"], capture_output=True, text=True)
check(r.returncode == 0, "a run without config.ini, --loss given")
os.remove(os.path.join(run, "generator_loss.npy"))
r = subprocess.run([py, tool, run], capture_output=True, text=True)
check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "generator_loss.npy" in r.stderr,
      "a missing array: exit 2 and one line (%r)" % r.stderr.strip())
print("cli_plot_losses: %d failed" % len(fails))
sys.exit(1 if fails else 0)
PY
