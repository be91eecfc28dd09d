/**
 * Keep credentials out of everything git-related that reaches a user: remote URLs may embed
 * `user:token@`, and git echoes them back in its own error text.
 */

const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/** `https://user:tok@host/r.git` → `https://host/r.git`. scp-like `git@host:r.git` is left alone (no secret). */
export function stripCredentials(url: string): string {
  return url.replace(URL_CREDENTIALS, '$1');
}

/** Strip credentials from any text (git's stderr) and drop blank lines; returns trimmed lines. */
export function scrubLines(text: string): string[] {
  return stripCredentials(text)
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
}
