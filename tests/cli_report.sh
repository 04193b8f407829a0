#!/usr/bin/env bash
# cli_report.sh CLGAN TMPDIR - `clgan report` on tests/fixtures/run_small (made by its
# make_fixture.py): one self-contained HTML file (no network references, no scripts, an
# <svg> per chart with the onset markers, the diagnoses, every embedded image decodes),
# which headless Chromium renders without a single console message into a screenshot
# that is not blank; runs missing the new files still get a report; bad run directories
# get exit code 2 and one line naming the file (and line), and no report.
# Needs chromium and /usr/bin/python3 with PIL: tools/install-deps.sh installs both.
set -u
clgan=$1 tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
fixture=$here/fixtures/run_small
py=/usr/bin/python3
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
expect2() { # expect2 NAME PATTERN COMMAND... : exit 2, one stderr line matching PATTERN
  "${@:3}" >"$tmp/out" 2>"$tmp/err"; rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -qi -- "$2" "$tmp/err"; then ok
  else bad "$1 (exit $rc, $lines lines):"; cat "$tmp/err"; fi
}
run_copy() { # run_copy NAME: a fresh copy of the fixture at $tmp/NAME
  rm -rf "$tmp/$1" && cp -r "$fixture" "$tmp/$1" && rm -f "$tmp/$1/make_fixture.py" "$tmp/$1/report.html"
}

# ---- the full fixture ----------------------------------------------------------------
run_copy run
if "$clgan" report "$tmp/run" >"$tmp/out" 2>"$tmp/err" && [ -s "$tmp/run/report.html" ] &&
   grep -q "wrote .*report.html" "$tmp/out"; then ok
else bad "report on the fixture (exit $?):"; cat "$tmp/err"; fi
if ls "$tmp/run" | grep -q '\.tmp\.'; then bad "a temp file was left in the run directory"; else ok; fi
if "$clgan" report "$tmp/run" --out "$tmp/other.html" >/dev/null 2>"$tmp/err" &&
   cmp -s "$tmp/other.html" "$tmp/run/report.html"; then ok
else bad "--out FILE differs from RUN_DIR/report.html"; cat "$tmp/err"; fi

if [ ! -x "$py" ] || ! "$py" -c "import PIL" 2>/dev/null; then
  bad "/usr/bin/python3 with PIL is needed (python3-pil): run tools/install-deps.sh"
else
  # Static checks of the page: self-contained, well-formed SVG, decodable images, content.
  if "$py" - "$tmp/run/report.html" >"$tmp/static" 2>&1 <<'EOF'
import base64, io, re, sys, xml.etree.ElementTree as ET
from PIL import Image
html = open(sys.argv[1], encoding="utf-8").read()
errors = []
def check(cond, what):
    if not cond:
        errors.append(what)
ns = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml"}
urls = set(re.findall(r"https?://[^\s\"'<>)]*", html))
check(urls <= ns, "network references: %s" % sorted(urls - ns))
check(not re.search(r"<script|<link|<iframe|<object|<embed|@import|javascript:", html, re.I),
      "a script, link, frame or import")
check(all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", html)), "a url() to a resource")
for attr in re.findall(r"\b(?:src|href)\s*=\s*\"([^\"]*)\"", html):
    check(attr.startswith("data:") or attr.startswith("#"), "a src/href to %r" % attr[:60])
check("Content-Security-Policy" in html and "default-src 'none'" in html, "no CSP meta")
svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
check(len(svgs) == 10, "expected 10 charts (<svg>), found %d" % len(svgs))
for i, s in enumerate(svgs):
    try:
        ET.fromstring(s)
    except ET.ParseError as e:
        errors.append("chart %d is not well-formed XML: %s" % (i, e))
marked = [s for s in svgs if 'class="mark"' in s and "d_too_strong" in s and "mode_collapse" in s]
check(len(marked) == 9, "expected onset markers on the 9 time charts, found %d" % len(marked))
for title in ["Losses", "Losses, log1p", "D(x) and D(G(z))", "Gradient norms: G", "Gradient norms: D",
              "Mode coverage", "Frechet distance", "dense0.kernel", "bn1.gamma"]:
    check(">%s<" % title in html, "missing %r" % title)
check(html.count("<path ") >= 30, "too few chart lines")
for text in ["Not healthy: Training imbalance: D too strong, Mode collapse", "Mode collapse",
             "<code>--lr-d 5e-5</code> (slower D)", "from 300", "from 450",
             "D loss 0.04 (&lt; 0.05) &amp; mean D(G(z)) 0.02", "256,512, leakyrelu, batchnorm",
             "adam, lr 0.0002, beta1 0.5"]:
    check(text in html, "missing text %r" % text)
check("Not charted" not in html and "Not in this run directory" not in html,
      "the full fixture reports something missing")
kinds = {}
for mime, data in re.findall(r"data:(image/[a-z]+);base64,([A-Za-z0-9+/=]*)", html):
    try:
        im = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        im.verify()
        kinds[mime] = kinds.get(mime, 0) + 1
    except Exception as e:
        errors.append("an embedded %s does not decode: %s" % (mime, e))
check(kinds == {"image/png": 4, "image/gif": 1}, "embedded images: %s (want 4 PNG, 1 GIF)" % kinds)
print("\n".join(errors) if errors else "static checks ok")
sys.exit(1 if errors else 0)
EOF
  then ok; else bad "static checks of report.html:"; cat "$tmp/static"; fi
fi

# ---- rendering in headless Chromium --------------------------------------------------
# The page has no JavaScript and a CSP of default-src 'none'; any console message (a
# script error, a blocked resource load, a CSP violation) shows in Chromium's stderr log
# as ":CONSOLE". A page with a deliberate error proves the detector sees them.
render() { # render HTML PNG LOG: screenshot and console log
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$tmp/chromium-profile" --enable-logging=stderr --v=0 \
    --screenshot="$2" --window-size=1200,3000 "file://$1" >"$3" 2>&1
}
if ! command -v chromium >/dev/null; then
  bad "chromium is not installed: run tools/install-deps.sh (it installs Debian's chromium)"
else
  printf '<!DOCTYPE html><html><body><p>x</p><script>undefined_function();</script></body></html>\n' \
    >"$tmp/broken.html"
  render "$tmp/broken.html" "$tmp/broken.png" "$tmp/broken.log"
  if grep -q ':CONSOLE' "$tmp/broken.log" && grep -q 'undefined_function' "$tmp/broken.log"; then ok
  else bad "console-error detector: Chromium's log shows no CONSOLE line for a page with a script error"; fi
  rm -f "$tmp/shot.png"
  render "$tmp/run/report.html" "$tmp/shot.png" "$tmp/chromium.log"; rc=$?
  if [ $rc -eq 0 ] && [ -s "$tmp/shot.png" ]; then ok
  else bad "chromium exit $rc, no screenshot:"; tail -5 "$tmp/chromium.log"; fi
  if grep ':CONSOLE' "$tmp/chromium.log"; then bad "console messages while rendering the report (above)"
  else ok; fi
  timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/chromium-profile" \
    --dump-dom "file://$tmp/run/report.html" >"$tmp/dom.html" 2>/dev/null
  n_svg=$(grep -o '<svg' "$tmp/dom.html" | wc -l) n_img=$(grep -o '<img' "$tmp/dom.html" | wc -l)
  if [ "$n_svg" -eq 10 ] && [ "$n_img" -eq 5 ]; then ok
  else bad "Chromium's DOM has $n_svg <svg> (want 10) and $n_img <img> (want 5)"; fi
  if [ -s "$tmp/shot.png" ] && "$py" - "$tmp/shot.png" >"$tmp/shot.txt" 2>&1 <<'EOF'
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
px = list(im.getdata())
colours = len(set(px))
page_bg = {(255, 255, 255), (243, 244, 246)}
ink = sum(1 for p in px if p not in page_bg) / len(px)
near = lambda p, c: all(abs(a - b) < 40 for a, b in zip(p, c))
orange = sum(1 for p in px[::3] if near(p, (255, 127, 14)))      # G's loss line
blue = sum(1 for p in px[::3] if near(p, (31, 119, 180)))        # D's loss line
print("size %s, %d colours, %.1f%% ink, %d orange and %d blue samples" % (im.size, colours, 100 * ink, orange, blue))
sys.exit(0 if im.size == (1200, 3000) and colours > 50 and ink > 0.05 and orange > 100 and blue > 100 else 1)
EOF
  then ok; else bad "the screenshot looks blank or the charts did not draw: $(cat "$tmp/shot.txt")"; fi
  echo "cli_report: screenshot $tmp/shot.png"
fi

# ---- runs without the new files --------------------------------------------------------
run_copy old
rm -f "$tmp/old/eval.jsonl" "$tmp/old/diagnoses.json" "$tmp/old/d_real.npy" "$tmp/old/d_fake.npy"
grep -v '^$' "$tmp/old/metrics.jsonl" | sed 's/, "gp".*}$/}/' >"$tmp/old/m" && mv "$tmp/old/m" "$tmp/old/metrics.jsonl"
if "$clgan" report "$tmp/old" >/dev/null 2>"$tmp/err" &&
   grep -q "diagnoses.json is missing" "$tmp/old/report.html" &&
   grep -q "Not charted" "$tmp/old/report.html" && grep -q "<code>eval.jsonl</code>" "$tmp/old/report.html"; then ok
else bad "a run without eval.jsonl, diagnoses.json, d_*.npy and gradient records:"; cat "$tmp/err"; fi
mkdir -p "$tmp/only"
cp "$fixture/metrics.jsonl" "$tmp/only/metrics.jsonl.partial"
if "$clgan" report "$tmp/only" >/dev/null 2>"$tmp/err" && grep -q "metrics.jsonl.partial" "$tmp/only/report.html"; then ok
else bad "a run with only metrics.jsonl.partial:"; cat "$tmp/err"; fi
run_copy nan
printf '{"iteration": 620, "d_loss": NaN, "g_loss": -inf, "d_grad_norm": Infinity, "nonfinite": 3}\n' >>"$tmp/nan/metrics.jsonl"
if "$clgan" report "$tmp/nan" >/dev/null 2>"$tmp/err" && grep -q "NaN/Inf" "$tmp/nan/report.html"; then ok
else bad "metrics.jsonl with printf's nan/inf values:"; cat "$tmp/err"; fi

# ---- a run cut short, a Wasserstein critic ----------------------------------------------
# The fixture ran 600 iterations; asking for 2000 makes it a run that stopped early: the
# verdict says so instead of "Healthy". A Wasserstein critic gets no accuracy line or card.
verdict_of() { "$py" -c "import re,sys; m=re.search(r'<div class=\"verdict[^>]*>(.*?)</div>', open(sys.argv[1]).read()); print(re.sub('<[^>]+>', ' ', m.group(1)))" "$1"; }
run_copy cut && sed -i 's/^iterations = 600$/iterations = 2000/' "$tmp/cut/config.ini"
printf '{"iterations": 600, "healthy": true, "diagnoses": []}\n' >"$tmp/cut/diagnoses.json"
"$clgan" report "$tmp/cut" >/dev/null 2>"$tmp/err"
v=$(verdict_of "$tmp/cut/report.html" 2>&1)
if echo "$v" | grep -q "Stopped at 600 of 2000 iterations" && ! echo "$v" | grep -q Healthy &&
   grep -q 'verdict v-none' "$tmp/cut/report.html"; then ok
else bad "an interrupted run's verdict: $v"; fi
run_copy cutbad && sed -i 's/^iterations = 600$/iterations = 2000/' "$tmp/cutbad/config.ini"
"$clgan" report "$tmp/cutbad" >/dev/null 2>"$tmp/err"
v=$(verdict_of "$tmp/cutbad/report.html" 2>&1)
if echo "$v" | grep -q "Not healthy: .*stopped at 600 of 2000 iterations"; then ok
else bad "an interrupted unhealthy run's verdict: $v"; fi
v=$(verdict_of "$tmp/run/report.html" 2>&1)
if echo "$v" | grep -q "Not healthy" && ! echo "$v" | grep -qi "stopped"; then ok
else bad "a finished run's verdict: $v"; fi
run_copy cutnodiag && sed -i 's/^iterations = 600$/iterations = 2000/' "$tmp/cutnodiag/config.ini" && rm "$tmp/cutnodiag/diagnoses.json"
"$clgan" report "$tmp/cutnodiag" >/dev/null 2>&1
if verdict_of "$tmp/cutnodiag/report.html" | grep -q "Stopped: stopped at 600 of 2000"; then ok
else bad "a killed run's verdict: $(verdict_of "$tmp/cutnodiag/report.html")"; fi
run_copy wgan && sed -i 's/^loss = bce$/loss = wasserstein/' "$tmp/wgan/config.ini"
"$clgan" report "$tmp/wgan" >/dev/null 2>&1
if ! grep -q ">D accuracy<\|final D accuracy" "$tmp/wgan/report.html" && grep -q "mean critic score" "$tmp/wgan/report.html" &&
   grep -q "a Wasserstein critic has no threshold" "$tmp/wgan/report.html" && grep -q ">D accuracy<" "$tmp/run/report.html"; then ok
else bad "a Wasserstein run's report still charts D accuracy, or the bce one lost it"; fi

# ---- bad input: exit 2, one line, no report ------------------------------------------
mkdir -p "$tmp/empty" "$tmp/unrelated" && echo notes >"$tmp/unrelated/notes.txt"
expect2 "missing run dir" "cannot open run directory" "$clgan" report "$tmp/nowhere"
expect2 "empty dir" "not a clgan run directory" "$clgan" report "$tmp/empty"
expect2 "no known files" "not a clgan run directory" "$clgan" report "$tmp/unrelated"
expect2 "a file, not a dir" "not a directory" "$clgan" report "$tmp/unrelated/notes.txt"
expect2 "no RUN_DIR" "RUN_DIR is required" "$clgan" report
expect2 "unknown flag" "unknown flag" "$clgan" report "$tmp/run" --frob
expect2 "--out without value" "needs a value" "$clgan" report "$tmp/run" --out
run_copy c1 && sed -i '3s/.*/{"iteration": 60, "d_loss": oops}/' "$tmp/c1/metrics.jsonl"
expect2 "corrupt metrics line" "metrics.jsonl:3: not a JSON object" "$clgan" report "$tmp/c1"
run_copy c2 && sed -i '2s/.*/[1, 2, 3]/' "$tmp/c2/metrics.jsonl"
expect2 "metrics line not an object" "metrics.jsonl:2:" "$clgan" report "$tmp/c2"
run_copy c3 && sed -i '5s/"iteration": [0-9]*, //' "$tmp/c3/metrics.jsonl"
expect2 "metrics line without iteration" "metrics.jsonl:5: no numeric \"iteration\"" "$clgan" report "$tmp/c3"
run_copy c4 && printf '{"iteration": 700, "modes_covered": 3\n' >>"$tmp/c4/eval.jsonl"
expect2 "truncated eval line" "eval.jsonl:7:" "$clgan" report "$tmp/c4"
run_copy c5 && head -c 100 "$fixture/discriminator_loss.npy" >"$tmp/c5/discriminator_loss.npy"
expect2 "truncated npy" "discriminator_loss.npy" "$clgan" report "$tmp/c5"
run_copy c6 && printf '{"healthy": false, "diagnoses": [{"id": 3}]}' >"$tmp/c6/diagnoses.json"
expect2 "bad diagnoses.json" "diagnoses.json: diagnoses\[0\].id is not a string" "$clgan" report "$tmp/c6"
run_copy c7 && printf 'not a png' >"$tmp/c7/images/400.png"
expect2 "corrupt sample grid" "400.png" "$clgan" report "$tmp/c7"
run_copy c8 && printf '[train]\nthis line has no equals sign\n' >"$tmp/c8/config.ini"
expect2 "corrupt config.ini" "config.ini:2" "$clgan" report "$tmp/c8"
leftover=$(ls "$tmp"/c[1-8] | grep -c 'report.html\|\.tmp\.' || true)
if [ "$leftover" -eq 0 ]; then ok; else bad "a failed report left report.html or a temp file behind"; fi

echo "cli_report: $passed passed, $fail failed"
[ $fail -eq 0 ]
