#!/usr/bin/env bash
# Quizmesh on a local kind cluster, as the kind workflow (.github/workflows/kind.yml) runs it:
# build every service image, load it into the cluster, install the Dapr control plane at the
# version pinned in charts/quizmesh/Chart.yaml, then the chart with its development backends
# (RabbitMQ, Redis, PostgreSQL, Jaeger, Mailpit in-cluster). Then: bash docs/cluster-smoke.sh
#
#   kind create cluster --name quizmesh --image "$KIND_NODE_IMAGE"   # see kind.yml for the pin
#   bash docs/kind-install.sh [cluster-name]                          # default: quizmesh
#
# Needs docker, kind, kubectl and helm 3.8+ (or 4) on PATH, run from anywhere in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
CLUSTER=${1:-quizmesh}
NAMESPACE=${NAMESPACE:-quizmesh}
TAG=${TAG:-kind}
ADMIN_EMAIL=${ADMIN_EMAIL:-admin@quizmesh.local}
SERVICES=(gateway identity quiz evaluation notification operator)
# One Dapr version for the chart, skaffold, Tilt and this script: the chart's annotation.
DAPR_VERSION=$(sed -n "s/^ *quizmesh.io\/dapr-version: *'\{0,1\}\([0-9.]*\)'\{0,1\}$/\1/p" charts/quizmesh/Chart.yaml)
[ -n "$DAPR_VERSION" ] || {
  echo "no quizmesh.io/dapr-version annotation in charts/quizmesh/Chart.yaml" >&2
  exit 1
}
step() { printf '\n== %s\n' "$*"; }

step "build and load the images (tag $TAG) into kind cluster $CLUSTER"
for service in "${SERVICES[@]}"; do
  start=$(date +%s)
  docker build -f services/Dockerfile --target runtime --build-arg "SERVICE=$service" -t "quizmesh/$service:$TAG" .
  kind load docker-image "quizmesh/$service:$TAG" --name "$CLUSTER"
  echo "quizmesh/$service:$TAG built and loaded in $(($(date +%s) - start)) s"
done

step "Dapr control plane $DAPR_VERSION (dapr-system)"
helm upgrade --install dapr dapr --repo https://dapr.github.io/helm-charts --version "$DAPR_VERSION" \
  --namespace dapr-system --create-namespace --wait --timeout 10m \
  --set global.ha.enabled=false --set global.mtls.enabled=true --set global.logAsJson=true \
  --set dapr_sidecar_injector.sidecarDropALLCapabilities=true

step "charts/quizmesh with the development backends ($NAMESPACE)"
# pullPolicy Never: the images exist only inside the kind nodes. The admin bootstrap email lets
# the smoke test publish a quiz (services/identity/README.md).
helm upgrade --install quizmesh charts/quizmesh --namespace "$NAMESPACE" --create-namespace \
  --wait --timeout 15m \
  --set image.tag="$TAG" --set image.pullPolicy=Never \
  --set-json "services.identity.extraEnv=[{\"name\":\"IDENTITY_BOOTSTRAP_ADMIN_EMAIL\",\"value\":\"$ADMIN_EMAIL\"}]"

kubectl -n "$NAMESPACE" get pods,jobs
