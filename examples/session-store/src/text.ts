// Pure text rules of the store, used on the caller's thread and inside procedures alike.

/** The longest title `sanitizeTitle` accepts, after cleaning. */
export const MAX_TITLE_LENGTH = 100;

/** A title longer than `MAX_TITLE_LENGTH` once cleaned. */
export class TitleTooLongError extends RangeError {
  readonly code = 'ERR_TITLE_TOO_LONG';
  constructor(length: number) {
    super(`title is too long (${length} characters, at most ${MAX_TITLE_LENGTH})`);
    this.name = 'TitleTooLongError';
  }
}

// C0/C1 controls and DEL; zero-width characters, bidi embeddings/overrides/isolates, BOM.
const INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Cleans a title: drops control, zero-width and bidi-override characters, collapses runs of
 * whitespace (tabs and newlines included) to one space, trims. Nothing left → `null`. Longer than
 * 100 characters → `TitleTooLongError`.
 */
export function sanitizeTitle(title: string | null | undefined): string | null {
  if (title === null || title === undefined) return null;
  // Tabs and newlines are whitespace, not junk: they become spaces before the rest is stripped.
  const clean = title.replace(/[\t\n\r]/g, ' ').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  if (clean === '') return null;
  const length = [...clean].length;
  if (length > MAX_TITLE_LENGTH) throw new TitleTooLongError(length);
  return clean;
}

/** Escapes `%`, `_` and the escape character itself for `LIKE … ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const CJK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\uff66-\uff9f]|[\u{20000}-\u{2fa1f}]/u;

/** Whether `text` holds Chinese, Japanese (kana) or Korean (Hangul) characters. */
export function containsCjk(text: string): boolean {
  return CJK.test(text);
}

const OPERATORS = new Set(['AND', 'OR', 'NOT']);
const BAREWORD = /^[\p{L}\p{N}_]+\*?$/u;

/**
 * Turns a user's search text into an FTS5 query that cannot be a syntax error, keeping what a user
 * means by it: balanced `"quoted phrases"`, `AND`/`OR`/`NOT` between terms, and `prefix*`. Terms
 * with `-` or `.` inside (`chat-send`, `P2.2`) become phrases; other FTS5 syntax characters
 * (`+ { } ( ) ^ : ` and stray quotes) are dropped; operators with nothing on one side are dropped.
 * Nothing left → `''`.
 */
export function sanitizeFts5Query(query: string): string {
  const phrases: string[] = [];
  // Balanced phrases are kept as they are; a placeholder holds their place meanwhile.
  let text = query.replace(/"[^"]*"/g, (phrase) => {
    if (phrase.slice(1, -1).trim() === '') return ' ';
    phrases.push(phrase);
    return ` \u0000${phrases.length - 1}\u0000 `;
  });
  text = text.replace(/"/g, ' ');
  const terms: string[] = [];
  for (const raw of text.split(/\s+/)) {
    if (raw === '') continue;
    const placeholder = /^\u0000(\d+)\u0000$/.exec(raw);
    if (placeholder !== null) {
      terms.push(phrases[Number(placeholder[1])]!);
      continue;
    }
    if (OPERATORS.has(raw)) {
      terms.push(raw);
      continue;
    }
    const word = raw.replace(/[+{}()^:]/g, '').replace(/^\*+/, '').replace(/\*{2,}$/, '*');
    if (word === '' || word === '*') continue;
    if (BAREWORD.test(word)) terms.push(word);
    else if (/[\p{L}\p{N}_][-.][\p{L}\p{N}_]/u.test(word)) terms.push(`"${word.replace(/\*$/, '')}"`);
    else {
      const stripped = word.replace(/[^\p{L}\p{N}_*]/gu, '').replace(/^\*+/, '');
      if (stripped !== '' && BAREWORD.test(stripped)) terms.push(stripped);
    }
  }
  return joinTerms(terms);
}

/**
 * Terms and bare operators joined into a query. Operators need a term on each side: leading and
 * trailing ones are dropped, and of several in a row the last one stays.
 */
function joinTerms(terms: readonly string[]): string {
  const out: string[] = [];
  for (const term of terms) {
    if (OPERATORS.has(term)) {
      if (out.length === 0) continue;
      if (OPERATORS.has(out[out.length - 1]!)) out[out.length - 1] = term;
      else out.push(term);
    } else {
      out.push(term);
    }
  }
  while (out.length > 0 && OPERATORS.has(out[out.length - 1]!)) out.pop();
  return out.join(' ');
}

/**
 * The query for the trigram index, where every term is a literal substring: each term that is not
 * `AND`/`OR`/`NOT` or already a `"phrase"` becomes one, quotes doubled, so `100%完成` matches
 * exactly that text. `shortest`: the fewest characters in a term (the trigram index needs 3).
 */
export function trigramQuery(query: string): { match: string; shortest: number } {
  const terms: string[] = [];
  let shortest = Number.POSITIVE_INFINITY;
  for (const m of query.matchAll(/"([^"]*)"|(\S+)/g)) {
    const text = m[1] ?? m[2]!;
    if (m[1] === undefined && OPERATORS.has(text)) {
      terms.push(text);
      continue;
    }
    const literal = text.replace(/"/g, '');
    if (literal.trim() === '') continue;
    shortest = Math.min(shortest, [...literal].length);
    terms.push(`"${literal}"`);
  }
  const match = joinTerms(terms);
  return { match, shortest: match === '' ? 0 : shortest };
}

/**
 * Removes `<memory-context>…</memory-context>` blocks (recalled memory an older agent build wrote
 * into a reply) and the blank lines after them.
 */
export function stripMemoryContext(content: string): string {
  if (!content.includes('<memory-context>')) return content;
  return content.replace(/<memory-context>[\s\S]*?<\/memory-context>\s*/g, '');
}
