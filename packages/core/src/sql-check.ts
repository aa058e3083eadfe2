import { sqlProblem, statementProblem } from '@litescribe/writer-worker/link';
import { InvalidSqlError, describeValue } from './errors.js';

/**
 * Checks the SQL of one operation statement: a non-empty string holding exactly one statement,
 * with no transaction or connection control. Throws `InvalidSqlError` naming what was wrong.
 */
export function checkStatementSql(sql: unknown, where = 'sql'): asserts sql is string {
  if (typeof sql !== 'string' || sql.length === 0) {
    throw new InvalidSqlError(`Expected \`${where}\` to be a non-empty SQL string, got ${describeValue(sql)}`);
  }
  const problem = statementProblem(sql);
  if (problem !== null) throw new InvalidSqlError(`\`${where}\` ${problem}: ${describeValue(sql)}`);
}

/** Checks setup SQL: several statements are fine, transaction and connection control are not. */
export function checkSetupSql(sql: string, where: string): void {
  if (sql.trim() === '') throw new InvalidSqlError(`Expected \`${where}\` to be non-empty SQL, got ${describeValue(sql)}`);
  const problem = sqlProblem(sql, false);
  if (problem !== null) throw new InvalidSqlError(`\`${where}\` ${problem}`);
}

/** Leading keywords that would take the transaction away from the PostgreSQL writer. */
const PG_FORBIDDEN_VERBS = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE']);
const PG_LEADING_NOISE = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/y;
const PG_FIRST_WORD = /[A-Za-z_]+/y;

/**
 * Checks one statement's SQL for PostgreSQL: a non-empty string whose leading keyword is not
 * transaction control. Only the first keyword is looked at (dollar-quoted bodies are PostgreSQL's
 * to parse); the server itself refuses several statements in one operation (ops are sent with the
 * extended protocol, which takes exactly one).
 */
export function checkPostgresSql(sql: unknown, where = 'sql'): asserts sql is string {
  if (typeof sql !== 'string' || sql.trim().length === 0) {
    throw new InvalidSqlError(`Expected \`${where}\` to be a non-empty SQL string, got ${describeValue(sql)}`);
  }
  PG_LEADING_NOISE.lastIndex = 0;
  PG_LEADING_NOISE.exec(sql);
  PG_FIRST_WORD.lastIndex = PG_LEADING_NOISE.lastIndex;
  const verb = PG_FIRST_WORD.exec(sql)?.[0].toUpperCase();
  if (verb !== undefined && PG_FORBIDDEN_VERBS.has(verb)) {
    throw new InvalidSqlError(`\`${where}\` uses ${verb}, which is not allowed in an operation: the writer owns the transaction (each op already runs inside one): ${describeValue(sql)}`);
  }
}
