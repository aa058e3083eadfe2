/** The procedures module could not be imported: an option error, with the module's own message. */
export class ProceduresLoadError extends Error {
  readonly code = 'ERR_INVALID_OPTION';
}

/**
 * Imports a procedures module and returns its named function exports. Shared by the SQLite writer
 * and the PostgreSQL writer (`@litescribe/writer-worker/load-procedures`, loads no SQLite); each
 * gives the functions its own signature.
 */
export async function loadProcedures<F>(url: string | null): Promise<ReadonlyMap<string, F>> {
  const procedures = new Map<string, F>();
  if (url === null) return procedures;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new ProceduresLoadError(`Expected \`procedures\` to be a loadable module, could not import ${url}: ${(err as Error).message}`, { cause: err });
  }
  for (const [name, value] of Object.entries(mod)) {
    if (typeof value === 'function' && name !== 'default') procedures.set(name, value as F);
  }
  return procedures;
}
