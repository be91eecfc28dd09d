/**
 * Secret redaction. Every value known to be secret (tokens, passwords, secret extra vars) is
 * registered here as soon as it is read; every line printed, logged or emitted as JSON passes
 * through `redact()`. Registration is per Redactor instance so tests can run in parallel.
 */

const MASK = '***';

/** Names under which a value is a secret (env vars, Jenkins parameters, extra vars, config keys). */
export const SECRET_NAME = /token|password|passwd|secret|api[-_]?key|credential|private[-_]?key/i;
/** Values shorter than this are not redacted: masking "1" or "ab" would garble ordinary output. */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(value);
    // Basic auth headers and URL-encoded copies leak the same secret in another spelling.
    this.secrets.add(encodeURIComponent(value));
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  }

  get size(): number {
    return this.secrets.size;
  }
}

/** The process-wide redactor used by the CLI's output layer. */
export const globalRedactor = new Redactor();
