import { UnsupportedNodeError } from './errors.js';

/** The oldest Node.js litescribe runs on: better-sqlite3 13 needs 22, `require()` of ES modules 22.12. */
export const MIN_NODE_VERSION = '22.12.0';

/**
 * Throws `UnsupportedNodeError` on a Node.js older than `MIN_NODE_VERSION`. Called before any thread
 * that loads better-sqlite3 starts: on Node 20 its Node-API 10 binary does not fail to load, it
 * crashes the process (a segmentation fault), which no caller could catch or read.
 */
export function checkNodeVersion(version: string = process.versions.node): void {
  const have = version.split('.').map(Number);
  const need = MIN_NODE_VERSION.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a > b) return;
    if (a < b || Number.isNaN(a)) {
      throw new UnsupportedNodeError(
        `litescribe needs Node.js ${MIN_NODE_VERSION} or later; this is Node.js ${version}. ` +
          'Install Node 22, 24 or 26 (24 is the active LTS line).',
      );
    }
  }
}
