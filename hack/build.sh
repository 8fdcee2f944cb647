#!/usr/bin/env bash
# build.sh builds the mlfleet binary with its versions stamped (-ldflags):
#
#   hack/build.sh [OUTPUT]        # default bin/mlfleet
#
# mlfleet's own version comes from `git describe` (`mlfleet version` prints it, with the
# Kubernetes version its embedded clusters run); the embedded kube-apiserver's from the
# k8s.io/kubernetes version in go.mod, written where Kubernetes' own release builds write it
# (k8s.io/component-base/version), so GET /version of every cluster reports it with the git
# commit and build date. A plain `go build`, `go run` or `go test` needs none of this: the
# versions then come from the build information or the module cache's source paths.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-bin/mlfleet}"
version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
commit=$(git rev-parse HEAD 2>/dev/null || echo "")
tree=clean
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then tree=dirty; fi
kube=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
major=${kube#v}; major=${major%%.*}
minor=${kube#v*.}; minor=${minor%%.*}
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)

base=k8s.io/component-base/version
ldflags=(
	"-X github.com/mlfleet/mlfleet/internal/cli.Version=${version}"
	"-X ${base}.gitVersion=${kube}"
	"-X ${base}.gitMajor=${major}"
	"-X ${base}.gitMinor=${minor}"
	"-X ${base}.gitCommit=${commit}"
	"-X ${base}.gitTreeState=${tree}"
	"-X ${base}.buildDate=${date}"
)
go build -ldflags "${ldflags[*]}" -o "$out" ./cmd/mlfleet
echo "built $out: mlfleet ${version}, Kubernetes ${kube}" >&2
