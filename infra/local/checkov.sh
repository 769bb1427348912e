#!/usr/bin/env bash
# checkov on template.yaml (framework cloudformation, which covers SAM's AWS::Serverless::*
# types and merges Globals into them). Fails on any finding that is neither fixed nor
# suppressed in the template itself (`Metadata: checkov: skip:` with an `id` and a
# `comment`), and on a suppression without a written reason. Offline: --skip-download
# keeps checkov from fetching guidelines from its vendor. Run by `make test` and `make lint`;
# an argument checks another template instead (e.g. a copy under edit).
set -euo pipefail
cd "$(dirname "$0")/../.."

CHECKOV="${CHECKOV:-.venv-checkov/bin/checkov}"
TEMPLATE="${1:-template.yaml}"
REPORT=$(mktemp "${TMPDIR:-/tmp}/checkov.XXXXXX")
trap 'rm -f "$REPORT"' EXIT

# checkov exits 1 when something fails; the summary below judges the report instead (and
# fails on an empty or unreadable one, so a crashed checkov cannot pass).
"$CHECKOV" --file "$TEMPLATE" --framework cloudformation --skip-download \
  --output json >"$REPORT" || true

python3 - "$REPORT" "$TEMPLATE" <<'PY'
import json, sys

template = sys.argv[2]

try:
    with open(sys.argv[1]) as f:
        report = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(f"checkov: no readable report ({e}); run it by hand to see why")
reports = report if isinstance(report, list) else [report]
cfn = [r for r in reports if r.get("check_type") == "cloudformation"]
if len(cfn) != 1:
    sys.exit(f"checkov: no cloudformation results for {template}")
summary, results = cfn[0]["summary"], cfn[0]["results"]

problems = []
if summary["parsing_errors"]:
    problems.append(f"{summary['parsing_errors']} parsing error(s)")
for c in results["failed_checks"]:
    problems.append(f"{c['check_id']} {c['resource']}: {c['check_name']}")
for c in results["skipped_checks"]:
    reason = (c.get("check_result") or {}).get("suppress_comment", "")
    if not reason.strip() or reason == "No comment provided":
        problems.append(f"{c['check_id']} {c['resource']}: suppressed without a comment")

if problems:
    print(f"checkov findings on {template}: fix each in the template, or suppress it there")
    print("(Metadata: checkov: skip: - id: CKV_..., comment: the reason). README, Security audit.")
    for p in problems:
        print("  " + p)
    sys.exit(1)
print(f"{template}: checkov {summary['checkov_version']} clean ({summary['passed']} checks "
      f"passed, {summary['skipped']} suppressed in the template with a reason, "
      f"{summary['resource_count']} resources)")
PY
