import { readFileSync } from 'node:fs';

/**
 * The fields of `/proc/<pid>/stat` after the parenthesised command name (which may hold spaces):
 * `[0]` is the state letter (`T` stopped, `t` traced, `Z` zombie), `[19]` the start time in clock
 * ticks since boot. Null when it cannot be read (no such process, not Linux).
 */
export function procStatFields(pid: number | 'self'): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
