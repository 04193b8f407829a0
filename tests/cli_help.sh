#!/usr/bin/env bash
# cli_help.sh CLGAN TMPDIR - the informational commands: --version names clgan's version
# and git revision, CLBlast and every OpenCL platform (with PoCL's version on PoCL);
# help lists the topics and each one prints; help COMMAND is COMMAND --help; devices
# prints every device's whole name (as clinfo reports it).
set -u
clgan=$1 tmp=$2
rm -rf "$tmp" && mkdir -p "$tmp"
fail=0 passed=0
check() { # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi
}
"$clgan" --version >"$tmp/v" 2>&1; rc=$?
cat "$tmp/v"
check "--version exits 0" test $rc = 0
check "--version: version and revision" grep -Eq '^clgan [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)' "$tmp/v"
check "--version: CLBlast" grep -q '^CLBlast: built against [0-9.]*, loaded from /.*libclblast' "$tmp/v"
check "--version: platforms" grep -q '^OpenCL platform 0: ' "$tmp/v"
if grep -q "Portable Computing Language" "$tmp/v"; then
  check "--version: PoCL's version" grep -q 'PoCL [0-9]' "$tmp/v"
fi
check "version = --version" bash -c "cmp -s <('$clgan' version) '$tmp/v'"
"$clgan" help topics >"$tmp/topics"
for t in $(awk '/^  [a-z]/ {print $1}' "$tmp/topics"); do
  check "help $t" bash -c "'$clgan' help $t >'$tmp/t' 2>&1 && [ \$(wc -l <'$tmp/t') -ge 5 ]"
done
check "help lists 7 topics" test "$(awk '/^  [a-z]/' "$tmp/topics" | wc -l)" -eq 7
check "help presets: every shipped preset" test "$("$clgan" help presets | grep -c '^  [a-z]')" -eq \
  "$(ls "$(dirname "$0")/../samples/presets/"*.ini | wc -l)"
check "help train = train --help" bash -c "cmp -s <('$clgan' help train) <('$clgan' train --help)"
check "help with no topic: the commands" bash -c "'$clgan' help | grep -q 'train-classifier'"
if command -v clinfo >/dev/null; then
  clinfo --list >/dev/null 2>&1
  name=$(clinfo 2>/dev/null | sed -n 's/^ *Device Name *//p' | head -1)
  check "devices shows the whole name '$name'" bash -c "'$clgan' devices | grep -qF -- '$name'"
fi
echo "cli_help: $passed passed, $fail failed"
[ $fail -eq 0 ]
