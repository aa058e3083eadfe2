/** The statement rules every write operation meets, on the caller's thread and in a leader alike. */

/** What the scanner learns about a SQL text: its statements' leading keywords. */
interface SqlShape {
  /** Per statement: first keyword (upper case) and, for PRAGMA, the pragma name (lower case). */
  readonly statements: ReadonlyArray<{ readonly verb: string; readonly pragma: string | null }>;
}

/**
 * Statements that would take the transaction, or the connection, away from the writer. The writer
 * owns BEGIN/COMMIT (that is what group commit is), so an op that commits or rolls back would
 * commit or discard other callers' work; ATTACH/DETACH/VACUUM cannot run inside a transaction.
 */
const FORBIDDEN_VERBS = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'VACUUM', 'ATTACH', 'DETACH']);

/** Pragmas that change how the writer's connection commits, locks or checkpoints. */
const FORBIDDEN_PRAGMAS = new Set([
  'journal_mode',
  'locking_mode',
  'synchronous',
  'wal_autocheckpoint',
  'wal_checkpoint',
  'busy_timeout',
  'journal_size_limit',
  'query_only',
]);

const WORD = /[A-Za-z_][A-Za-z0-9_$]*/y;

/**
 * Splits SQL into statements the way SQLite would for this purpose: skips comments, string
 * literals and quoted identifiers, and keeps `;` inside a CREATE TRIGGER body (BEGIN … END, with
 * CASE … END nested in it) from ending the statement.
 */
function scan(sql: string): SqlShape {
  const statements: Array<{ verb: string; pragma: string | null }> = [];
  let words: string[] = [];
  let inTriggerBody = false;
  let caseDepth = 0;
  const endStatement = (): void => {
    if (words.length > 0) {
      const verb = words[0]!;
      // PRAGMA [schema.]name: skip the schema, whatever it is called.
      const pragma = verb === 'PRAGMA' ? (words[2] === '.' ? words[3] : words[1]) ?? null : null;
      statements.push({ verb, pragma: pragma === null ? null : pragma.toLowerCase() });
    }
    words = [];
    inTriggerBody = false;
    caseDepth = 0;
  };
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const closer = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(closer, j);
        if (k === -1) {
          j = n;
          break;
        }
        if (closer !== ']' && sql[k + 1] === closer) {
          j = k + 2; // doubled quote is an escaped quote
          continue;
        }
        j = k + 1;
        break;
      }
      words.push(c === "'" ? '<string>' : '<ident>');
      i = j;
    } else if (c === ';') {
      if (inTriggerBody) {
        i += 1;
        continue;
      }
      endStatement();
      i += 1;
    } else if (/[A-Za-z_]/.test(c)) {
      WORD.lastIndex = i;
      const m = WORD.exec(sql);
      const word = m![0].toUpperCase();
      i += m![0].length;
      words.push(word);
      if (isTrigger(words)) {
        if (!inTriggerBody && word === 'BEGIN') inTriggerBody = true;
        else if (inTriggerBody && word === 'CASE') caseDepth += 1;
        else if (inTriggerBody && word === 'END') {
          if (caseDepth > 0) caseDepth -= 1;
          else inTriggerBody = false;
        }
      }
    } else if (/\s/.test(c)) {
      i += 1;
    } else {
      words.push(c);
      i += 1;
    }
  }
  endStatement();
  return { statements };
}

function isTrigger(words: readonly string[]): boolean {
  if (words[0] !== 'CREATE') return false;
  return words[1] === 'TRIGGER' || ((words[1] === 'TEMP' || words[1] === 'TEMPORARY') && words[2] === 'TRIGGER');
}


/**
 * What is wrong with `sql` as an operation (`single`: exactly one statement) or as setup SQL, or
 * null. Pure string work, no SQLite: the caller's thread checks its own calls with it, and a leader
 * checks a follower's batch with the same rules before it merges it with anyone else's.
 */
export function sqlProblem(sql: string, single: boolean): string | null {
  const shape = scan(sql);
  if (shape.statements.length === 0) return 'contains no statement';
  if (single && shape.statements.length > 1) {
    return `contains ${shape.statements.length} statements; run() takes exactly one (use batch() for several)`;
  }
  for (const { verb, pragma } of shape.statements) {
    if (FORBIDDEN_VERBS.has(verb)) {
      return `uses ${verb}, which is not allowed in an operation: the writer owns the transaction (each op already runs inside one)`;
    }
    if (verb === 'PRAGMA' && pragma !== null && FORBIDDEN_PRAGMAS.has(pragma)) {
      return `sets PRAGMA ${pragma}, which the writer manages; pass it as an option to openWriteQueue instead`;
    }
  }
  return null;
}

// Callers repeat the same statements, so each distinct text is scanned once. Bounded: cleared
// when full rather than tracking recency, which costs nothing on the hot path.
const verdicts = new Map<string, string | null>();
const VERDICT_CACHE_SIZE = 1024;

/** {@link sqlProblem} for one operation statement, each distinct text scanned once. */
export function statementProblem(sql: string): string | null {
  let problem = verdicts.get(sql);
  if (problem === undefined) {
    problem = sqlProblem(sql, true);
    if (verdicts.size >= VERDICT_CACHE_SIZE) verdicts.clear();
    verdicts.set(sql, problem);
  }
  return problem;
}
