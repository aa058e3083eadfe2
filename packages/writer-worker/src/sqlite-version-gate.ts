/**
 * SQLite releases before 3.51.3 can corrupt a WAL database when several processes write and
 * checkpoint at once (the WAL-reset bug, fixed in 3.51.3 and backported to 3.50.7 and 3.44.6).
 * Returns true for an affected version.
 */
export function isWalResetBugAffected(version: string): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  const [major = 0, minor = 0, patch = 0] = parts;
  if (major !== 3) return major < 3;
  if (minor > 51 || (minor === 51 && patch >= 3)) return false;
  if (minor === 50 && patch >= 7) return false;
  if (minor === 44 && patch >= 6) return false;
  return true;
}
