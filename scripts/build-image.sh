#!/usr/bin/env bash
# Builds the image tagged with package.json's version and points k8s/ at that tag, so what is
# deployed is always a named release. Needs Docker (and kustomize for the k8s step).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').version")
docker build --build-arg VERSION="$version" -t "similarity-worker:$version" .
if command -v kustomize >/dev/null; then
  (cd k8s && kustomize edit set image "similarity-worker=similarity-worker:$version")
else
  sed -i "s/newTag: \".*\"/newTag: \"$version\"/" k8s/kustomization.yaml
fi
echo "built similarity-worker:$version; k8s/kustomization.yaml deploys it"
