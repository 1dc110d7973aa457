#!/usr/bin/env bash
# Applies an overlay in the order a release needs (docs/operations.md, "On the cluster"):
#   1. the namespace, settings, Kafka, topics, databases and poolers; waits until they are ready
#   2. each service's migration Job (`<svc>-admin migrate`), run to completion: a new schema is in
#      place before any pod of the new version serves (the old version keeps running meanwhile;
#      migrations are additive, so it keeps working against the new schema)
#   3. everything else: the Deployments roll, their readiness gates the traffic
#   deploy/k8s/rollout.sh dev|production [kubectl context]
set -euo pipefail
overlay=${1:?usage: rollout.sh dev|production [context]}
here=$(cd "$(dirname "$0")" && pwd -P)
kubectl=(kubectl ${2:+--context "$2"})
kustomize=$(command -v kustomize || echo /root/.cache/cet-suite/bin/kustomize)
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
"$kustomize" build "$here/overlays/$overlay" >"$rendered"
namespace=$(awk '/^kind: Namespace/{n=1} n && /^  name:/{print $2; exit}' "$rendered")

apply_kinds() { # kind... : apply only the objects of these kinds
  python3 - "$rendered" "$@" <<'PY' | "${kubectl[@]}" apply --server-side -f -
import sys, yaml
kinds = set(sys.argv[2:])
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] in kinds]
yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)
PY
}

echo "== data: Kafka, topics, PostgreSQL clusters and poolers"
apply_kinds Namespace ConfigMap NetworkPolicy PersistentVolumeClaim Kafka KafkaNodePool KafkaTopic Cluster Pooler
"${kubectl[@]}" -n "$namespace" wait --for=condition=Ready kafka/cet-kafka --timeout=15m
"${kubectl[@]}" -n "$namespace" wait --for=condition=Ready cluster.postgresql.cnpg.io --all --timeout=15m

echo "== migrations"
# a Job's pod template cannot change: the previous release's Job goes, this release's runs
"${kubectl[@]}" -n "$namespace" delete job -l app.kubernetes.io/component=migration --ignore-not-found --wait
apply_kinds Job
"${kubectl[@]}" -n "$namespace" wait --for=condition=Complete job -l app.kubernetes.io/component=migration --timeout=15m

echo "== services"
"${kubectl[@]}" apply --server-side -f "$rendered"
for deployment in $("${kubectl[@]}" -n "$namespace" get deployments -o name); do
  "${kubectl[@]}" -n "$namespace" rollout status "$deployment" --timeout=10m
done
