#!/usr/bin/env bash
# The operator on a real cluster (the kind workflow runs it after docs/kind-install.sh): the example
# Quiz resources become published quizzes, a spec change publishes a new version, and deleting a
# resource archives its quiz before the resource goes (the finalizer).
#
# Needs kubectl on PATH pointing at the cluster; run from anywhere in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
NAMESPACE=${NAMESPACE:-quizmesh}
k() { kubectl -n "$NAMESPACE" "$@"; }
step() { printf '\n== %s\n' "$*"; }
published() { k get quiz "$1" -o jsonpath='{.status.publishedVersion}'; }

step "apply services/operator/examples"
k apply -f services/operator/examples/
k wait quiz --all --for=condition=Ready --timeout=180s
k get quizzes
[ "$(published solar-system)" = 1 ] || { echo "solar-system: published version is '$(published solar-system)', not 1" >&2; exit 1; }

step "a spec change publishes version 2"
k patch quiz solar-system --type merge -p '{"spec":{"title":"The Solar System (revised)"}}'
for _ in $(seq 1 60); do
  [ "$(published solar-system)" = 2 ] && break
  sleep 2
done
[ "$(published solar-system)" = 2 ] || { echo "solar-system: version 2 was not published" >&2; exit 1; }

step "deleting a resource archives its quiz first"
k delete quiz solar-system --timeout=120s
k get events --field-selector involvedObject.kind=Quiz --sort-by=.lastTimestamp | tail -20
k get events --field-selector involvedObject.name=solar-system,reason=Archived -o name | grep -q . ||
  { echo "no Archived event for solar-system" >&2; exit 1; }
echo "operator smoke test passed"
