#!/usr/bin/env bash
# Writes src/index.ts: explicit re-exports of the generated contracts (ts-proto files all export
# helpers such as protobufPackage, so `export *` would collide).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  echo "// Generated contracts of taskorch (ts-proto over proto/taskorch/v1). Never hand-edit src/gen: run \`make proto\`."
  for f in task scheduler_service coordinator_service bus; do
    names=$(grep -oE "^export (const|interface|enum|function|type) [A-Za-z0-9_]+" "src/gen/taskorch/v1/$f.ts" | awk '{print $3}' \
      | grep -vE "^(protobufPackage|protobufFileName|DeepPartial|Exact|MessageFns)$" | sort -u | paste -sd, | sed 's/,/, /g')
    echo "export { $names } from \"./gen/taskorch/v1/$f.js\";"
  done
  echo 'export { Duration } from "./gen/google/protobuf/duration.js";'
  echo 'export { Timestamp } from "./gen/google/protobuf/timestamp.js";'
  echo 'export { descriptorSetPath } from "./descriptor.js";'
} > src/index.ts
