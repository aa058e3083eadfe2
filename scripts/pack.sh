#!/usr/bin/env bash
# Packs the publishable packages into tarballs (default ./tarballs), for installing litescribe into a
# project before it is on the npm registry. Run after `npm ci` (it builds first).
#
#   npm run pack                    # -> tarballs/litescribe-core-0.1.0.tgz, …
#   npm run pack -- /some/folder
#
# A SQLite project needs three of them: core and the two thread packages core depends on
# (writer-worker, reader-worker); PostgreSQL adds pg-writer; the adapters are drizzle, kysely, fastify.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/tarballs}" && cd "${1:-$root/tarballs}" && pwd)"
cd "$root"
npx turbo run build --output-logs=errors-only > /dev/null
rm -f "$out"/litescribe-*.tgz
npm pack --silent --pack-destination "$out" \
  --workspace packages/writer-worker --workspace packages/reader-worker --workspace packages/core \
  --workspace packages/pg-writer --workspace packages/drizzle --workspace packages/kysely \
  --workspace packages/fastify > /dev/null
ls "$out"/litescribe-*.tgz
