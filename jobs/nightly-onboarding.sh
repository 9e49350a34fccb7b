#!/bin/sh
# Nightly onboarding, for a crontab line and the Kubernetes CronJob (jobs/k8s/cronjob.yaml): plan
# before the first attempt on a roster, then run --resume. Its results go to a folder named after
# the roster's fingerprint, results/nightly-onboarding/<sha256 prefix>/, so the same roster resumes
# where the last night stopped (rows done are skipped; 60012 rows are tried again once seats were
# bought), and a new roster starts a fresh folder instead of being refused as another roster's
# results. The exit code is the runner's (0, 2, 3, 4, 130: see jobs/README.md).
#
# Run from the folder the job file's paths are relative to (the repository root; /data in the image).
# Environment: credentials (PARTNER_CENTER_*; PARTNER_CENTER_TOKEN_CACHE defaults to
# ~/.license-runner/token-cache.json), and optionally
#   LICENSE_RUNNER_CLI  the CLI script (default dist/cli.js; /app/dist/cli.js in the image)
#   LICENSE_RUNNER_JOB  the job file (default jobs/nightly-onboarding.json)
set -eu
# The token cache keeps the refresh token each run rotates in (see jobs/README.md): without it,
# PARTNER_CENTER_REFRESH_TOKEN stops working 90 days after its consent. The runner writes it 0600
# (and refuses it otherwise); umask 077 keeps anything else this script creates private too.
umask 077
if [ -z "${PARTNER_CENTER_TOKEN_CACHE:-}" ] && [ -n "${HOME:-}" ]; then
  export PARTNER_CENTER_TOKEN_CACHE="$HOME/.license-runner/token-cache.json"
fi
cli=${LICENSE_RUNNER_CLI:-dist/cli.js}
job=${LICENSE_RUNNER_JOB:-jobs/nightly-onboarding.json}

# The roster is the job file's input; a job file that cannot be read is left to the CLI to explain.
roster=$(node -e 'try { process.stdout.write(String(JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8").replace(/^\uFEFF/, "")).input ?? "")) } catch {}' "$job")
if [ -z "$roster" ]; then exec node "$cli" plan --job "$job"; fi
if [ ! -f "$roster" ]; then
  echo "nightly-onboarding: no roster at $(pwd)/$roster" >&2
  exit 2
fi
dir="results/nightly-onboarding/$(sha256sum "$roster" | cut -c1-16)"
mkdir -p "$dir"

# The seat check only before the first attempt: on a resumed one, the seats the earlier attempt
# consumed would show as a shortfall (plan does not know which rows are done). Exit 3 stops here
# on a roster error or a seat shortfall; one customer whose lookups fail (a missing GDAP role)
# does not stop the others (--fail-on, README "The pipelines' plan policy").
if [ ! -f "$dir/results.csv" ]; then
  node "$cli" plan --job "$job" --fail-on invalid,shortfall --output "$dir/plan.csv" --summary-json "$dir/plan.summary.json"
fi

# exec: the runner takes this process's place, so SIGTERM reaches it (drain, record, exit 130).
exec node "$cli" run --job "$job" --resume --output "$dir/results.csv" --summary-json "$dir/summary.json"
