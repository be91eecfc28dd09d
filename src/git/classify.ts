import { GitStepError, UnreachableError } from '../errors.js';
import { GitCommandError } from './run.js';
import { scrubLines, stripCredentials } from './sanitize.js';

/** What git prints when the remote cannot be reached or refuses our credentials (LC_ALL=C). */
const UNREACHABLE_PATTERNS = [
  /could not read from remote repository/i,
  /unable to access/i,
  /authentication failed/i,
  /could not read (username|password)/i,
  /terminal prompts disabled/i,
  /does not appear to be a git repository/i,
  /could not resolve host/i,
  /connection (refused|timed out|reset)/i,
  /permission denied/i,
  /repository .* not found/i,
  /the requested url returned error: (401|403|404)/i,
  /access denied/i,
  /no such remote/i,
  /unable to connect/i,
];

export function looksUnreachable(stderr: string): boolean {
  return UNREACHABLE_PATTERNS.some((pattern) => pattern.test(stderr));
}

/** Git's most telling line: the last `fatal:`/`error:` line, else the last line. */
export function gitReason(stderr: string): string {
  const lines = scrubLines(stderr);
  const fatal = lines.filter((line) => /^(fatal|error):/.test(line)).at(0);
  return (fatal ?? lines.at(-1) ?? 'no output').replace(/^(fatal|error):\s*/, '');
}

/**
 * Translate a failed network command (fetch, push, ls-remote) into the error hierarchy:
 * unreachable / auth → exit 4 naming the credential-free URL; anything else → exit 10.
 */
export function networkError(error: unknown, remote: string, remoteUrl: string, action: string): unknown {
  if (!(error instanceof GitCommandError)) return error;
  const url = stripCredentials(remoteUrl);
  const details = scrubLines(error.stderr).slice(-20);
  if (error.timedOutAfterMs !== undefined) {
    return new UnreachableError('git.timeout', `cannot ${action} ${remote} (${url}): no answer within ${Math.round(error.timedOutAfterMs / 1000)}s; git was stopped`, {
      hint: `git ls-remote ${remote}   # or raise git.timeout in iac.yaml`,
      details,
    });
  }
  if (looksUnreachable(error.stderr)) {
    return new UnreachableError('git.unreachable', `cannot ${action} ${remote} (${url}): ${gitReason(error.stderr)}`, {
      hint: `git ls-remote ${remote}`,
      details,
    });
  }
  return new GitStepError('git.failed', `git ${action} ${remote} (${url}) failed: ${gitReason(error.stderr)}`, {
    details,
  });
}
