#!/usr/bin/env bash
# Try kbs on the local stack, step by step: the README's "Using it locally", as a script that
# tests/e2e/test_readme_script.py runs. Needs `make demo` or `make test` to have made .venv.
set -euo pipefail
kbs=.venv/bin/kbs
data=${KBS_DATA_DIR:-.kbs}
mkdir -p "$data"

# 1. Start the local stack (here in the background; `make serve PORT=8001` runs it in the
#    foreground). --port 0 takes any free port; .kbs/local.json says which.
$kbs serve --port "${PORT:-0}" --data-dir "$data" > "$data/serve.log" 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve || true' EXIT
until grep -qs "\"pid\": $serve," "$data/local.json"; do
  kill -0 $serve 2>/dev/null || { cat "$data/serve.log" >&2; exit 1; }   # it could not start
  sleep 0.2
done
grep '"api_url"' "$data/local.json"      # open that URL in a browser: the registration page

# 2. Load the SAMPLE programme (seven sessions, dates relative to today) and list it.
$kbs sessions import events/programme.sample.json --dry-run --local "$data"   # the plan
$kbs sessions import events/programme.sample.json --local "$data"
$kbs sessions list --local "$data"

# 3. Someone registers: the sample form post (what a browser sends) through the API function.
$kbs invoke api events/api/post-registration-form.json --local "$data"
until $kbs outbox list --kind confirmation --local "$data" | grep -q confirmation; do sleep 0.2; done
$kbs outbox list --local "$data"         # the confirmation, with its invite, as an .eml file

# 4. The organiser uploads the slides (or use any S3 client against aws_endpoint_url).
$kbs materials upload kbs-01-ict-hardware \
  "events/s3/sessions/kbs-01-ict-hardware/slides/Risk mapping – ICT hardware.pdf" \
  --kind slides --local "$data"
$kbs materials list kbs-01-ict-hardware --local "$data"

# 5. The session's day on a simulated clock: reminders, live, follow-up.
$kbs tick --session kbs-01-ict-hardware --at=-24h --local "$data"   # reminder 24 h before
$kbs tick --session kbs-01-ict-hardware --at=-1h --local "$data"    # reminder 1 h before
$kbs sessions start kbs-01-ict-hardware --local "$data"             # "we are live" (or at start)
$kbs tick --session kbs-01-ict-hardware --at=+95m --local "$data"   # ended: the follow-up
$kbs outbox list --to zoe.akesson@upphandling.example.se --local "$data"

# 6. Programme changes: another session moves (new invites), the last one is cancelled.
$kbs sessions reschedule kbs-03-textiles --start "$(date -u -d '+60 days' +%Y-%m-%dT09:00:00Z)" \
  --local "$data"
$kbs sessions cancel kbs-07-monitoring --reason "The speaker is unwell" --local "$data"

# 7. Trust: suppressions, a person's data (export, then erasure), dead letters.
$kbs suppressions list --local "$data"
$kbs registrants export zoe.akesson@upphandling.example.se --out "$data/zoe.json" --local "$data"
$kbs registrants erase zoe.akesson@upphandling.example.se --local "$data"
$kbs dlq list --local "$data"
$kbs tick --real --local "$data"        # back to real time
