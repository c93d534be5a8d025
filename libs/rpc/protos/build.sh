#!/usr/bin/env bash
# Rebuilds builtin.binpb: a FileDescriptorSet (buf build, as for libs/proto/descriptor.binpb) holding
#   grpc/health/v1/health.proto           from the installed grpc-health-check package (what its server serves)
#   grpc/reflection/v1/reflection.proto   from this directory
#   grpc/reflection/v1alpha/reflection.proto
# libs/rpc/src/reflection.ts serves these untouched FileDescriptorProtos next to taskorch's own, so that
# `grpcurl describe grpc.health.v1.Health` and `describe grpc.reflection.v1.ServerReflection` resolve.
# Run from anywhere: bash libs/rpc/protos/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/grpc/health/v1"
cp -R "$here/grpc/reflection" "$work/grpc/"
cp "$root/node_modules/grpc-health-check/proto/health/v1/health.proto" "$work/grpc/health/v1/health.proto"
printf 'version: v2\n' > "$work/buf.yaml"
(cd "$work" && "$root/node_modules/.bin/buf" build -o "$here/builtin.binpb")
echo "wrote $here/builtin.binpb"
