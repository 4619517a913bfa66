#!/usr/bin/env bash
# The GPU check: runs the job bench/gpu/prepare.ts made with torchrun on DEVICE (cuda by default),
# without and with --amp, and on the CPU, each from a fresh copy; prints images/s, peak device
# memory and test accuracy, and compares the first epoch's training loss of each run with the CPU's
# (mixed precision within AMP's tolerance). Needs only Python with torch and torchvision: no Node,
# no network. DEVICE=cpu runs every leg on the CPU (the test suite does, so it cannot rot).
#   bash bench/gpu/check.sh [WORK_DIR]      (default bench/gpu/work)
set -euo pipefail
work="$(cd "${1:-$(dirname "$0")/work}" && pwd)"
device="${DEVICE:-cuda}"
PYTHON="${PYTHON:-python3}"
export PYTHON DATA_ROOT="$work/job/data"
legs=("$device:0" "$device:1" "cpu:0")
[ "$device" = cpu ] && legs=("cpu:0") # the suite: one leg keeps every step from rotting
for leg in "${legs[@]}"; do
  dev="${leg%%:*}"
  amp="${leg#*:}"
  run="$work/run-$dev-$amp"
  rm -rf "$run"
  cp -r "$work/job" "$run"
  DEVICE="$dev" AMP="${amp%b}" bash "$run/launch.sh" > "$run/events.ndjson" 2> "$run/stderr.log" \
    || { echo "check.sh: the $leg run failed:" >&2; tail -n 20 "$run/stderr.log" >&2; exit 1; }
done
"$PYTHON" - "$work" "${legs[@]}" <<'PY'
import json, sys
work, legs = sys.argv[1], sys.argv[2:]
rows = []
for leg in legs:
    run = f"{work}/run-{leg.replace(':', '-')}"
    report = json.load(open(f"{run}/report.json"))
    env = json.load(open(f"{run}/environment.json"))
    first = json.loads(open(f"{run}/metrics.jsonl").readline())
    # The engine says when an epoch waited on decoding for over half its time: was the device fed?
    limited = [e["message"] for e in map(json.loads, open(f"{run}/events.ndjson")) if e.get("type") == "warning"
               and "data loading limited" in e.get("message", "")]
    rows.append((leg, report, env, first["loss"], limited))
cpu_loss = rows[-1][3]
print(f"{'run':10} {'device':28} {'amp':5} {'img/s':>8} {'peak MB':>8} {'test acc':>8} {'epoch-1 loss':>12} {'vs cpu':>8}")
ok = True
for leg, report, env, loss, limited in rows:
    peak = env.get("peakDeviceMemory")
    rel = abs(loss - cpu_loss) / max(abs(cpu_loss), 1e-12)
    # float32 runs agree to float noise; float16 autocast within a few percent over one epoch.
    tol = 0.05 if env["amp"] else 1e-3
    ok &= rel <= tol
    print(
        f"{leg:10} {', '.join(env['devices'])[:28]:28} {str(env['amp']):5} {report['training']['imagesPerSecond'] or 0:8.1f}"
        f" {(peak or 0) / 2**20:8.1f} {report['evaluation']['accuracy']:8.3f} {loss:12.5f} {rel:8.1e}"
    )
    print(f"{'':10} loader: {limited[-1].split(': ', 1)[1] if limited else 'kept up (no epoch waited on decoding for over half its time)'}")
print(f"torch {env.get('torch')} · torchvision {env.get('torchvision')} · first-epoch losses {'agree' if ok else 'DIFFER'}")
sys.exit(0 if ok else 1)
PY
