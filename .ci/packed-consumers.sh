#!/usr/bin/env bash
# Installs the publishable packages from `npm pack` tarballs into a fresh project outside the
# workspace (no workspace links) and runs three consumers there against a real file: ESM, CommonJS
# (require() of ES modules) and a strict TypeScript program. Run after the build (`npm test` does it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"
bash scripts/pack.sh "$work" > /dev/null
ls "$work"
mkdir "$work/app"
cd "$work/app"
tarball() { ls "$work"/litescribe-"$1"-*.tgz; }
cat > package.json <<JSON
{
  "name": "consumer",
  "private": true,
  "dependencies": {
    "@litescribe/core": "file:$(tarball core)",
    "@litescribe/reader-worker": "file:$(tarball reader-worker)",
    "@litescribe/writer-worker": "file:$(tarball writer-worker)",
    "@litescribe/pg-writer": "file:$(tarball pg-writer)",
    "@litescribe/drizzle": "file:$(tarball drizzle)",
    "@litescribe/kysely": "file:$(tarball kysely)",
    "drizzle-orm": "^0.45.4",
    "kysely": "^0.29.9"
  },
  "devDependencies": { "typescript": "~5.9.3", "@types/node": "^22.20.7" }
}
JSON
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "skipLibCheck": false, "noEmit": false, "outDir": "out", "types": ["node"] }, "files": ["main.mts"] }
JSON
cp "$root/.ci/consumer/esm.mjs" "$root/.ci/consumer/cjs.cjs" .
cp "$root/.ci/consumer/main.ts" main.mts
cp "$root/.ci/consumer/drizzle.ts" drizzle.mts
cat > tsconfig.drizzle.json <<'JSON'
{ "extends": "./tsconfig.json", "compilerOptions": { "skipLibCheck": true }, "files": ["drizzle.mts"] }
JSON
npm install --no-audit --no-fund --loglevel=error
if [ -L node_modules/@litescribe/core ]; then echo "packed-consumers: @litescribe/core is a link, not an installed tarball" >&2; exit 1; fi
node esm.mjs
node cjs.cjs
# The backup command as installed from the tarball (its bin, made executable by npm).
node -e "const D = require('better-sqlite3'); const d = new D('src.db'); d.pragma('journal_mode = WAL'); d.exec('CREATE TABLE t (x)'); d.prepare('INSERT INTO t VALUES (7)').run(); d.close()"
npx --no-install litescribe-backup src.db copy.db
node -e "const D = require('better-sqlite3'); const d = new D('copy.db', { readonly: true }); const x = d.prepare('SELECT x FROM t').pluck().get(); if (x !== 7) throw new Error('litescribe-backup: the copy holds ' + x); console.log('litescribe-backup: ok')"
npx tsc -p tsconfig.json
node out/main.mjs
npx tsc -p tsconfig.drizzle.json
node out/drizzle.mjs
# The READMEs' code blocks, run as written in a project of their own (it packs again: cheap).
node "$root/.ci/docs-snippets.mjs"
echo "packed consumers: ESM (core, pg-writer, drizzle, kysely), CommonJS, strict TypeScript and the litescribe-backup command and the README code blocks all passed (Node $(node --version))"
