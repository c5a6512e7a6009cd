/**
 * Which characters user-written text may hold (display names, quiz titles, question texts…),
 * shared by every contract so that one rule applies everywhere.
 *
 * Refused: C0/C1 controls (NUL included: PostgreSQL text cannot hold it), lone surrogates (not
 * Unicode text: they would be stored as U+FFFD), the line and paragraph separators U+2028/U+2029
 * (they break JavaScript string literals and log lines), and invisible format characters
 * (category Cf: bidi embeddings/overrides/isolates used for "Trojan source" spoofing, the BOM
 * U+FEFF, zero-width spaces, soft hyphens, invisible operators, tag characters that smuggle
 * hidden ASCII). Two format characters are real text and stay allowed: the zero-width non-joiner
 * U+200C (Persian, Indic scripts) and the zero-width joiner U+200D (emoji sequences), and tag
 * characters inside an emoji subdivision flag (🏴 + tags + U+E007F cancel tag, e.g. Scotland).
 * Right-to-left text itself is fine.
 */
const FORBIDDEN = /(?![\u200C\u200D])[\p{Cc}\p{Cs}\p{Cf}\p{Zl}\p{Zp}]/u;
// Multi-line texts (descriptions, question texts, explanations) may contain line breaks and tabs.
const FORBIDDEN_MULTILINE = /(?![\t\n\r\u200C\u200D])[\p{Cc}\p{Cs}\p{Cf}\p{Zl}\p{Zp}]/u;
const FLAG_TAG_SEQUENCE = /\u{1F3F4}[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{1,8}\u{E007F}/gu;

export const FORBIDDEN_CHARACTERS_MESSAGE = 'must not contain control or invisible formatting characters';

/** True when `value` holds a character user-written text must not contain. */
export function hasForbiddenCharacters(value: string, options: { multiline?: boolean } = {}): boolean {
  const forbidden = options.multiline ? FORBIDDEN_MULTILINE : FORBIDDEN;
  return forbidden.test(value.replace(FLAG_TAG_SEQUENCE, '\u{1F3F4}'));
}
