import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const IAC_BIN = join(import.meta.dirname, '../../bin/iac');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `bin/iac` as a user would (a real process; `npm test` builds first). */
export function runIac(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [IAC_BIN, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, NO_COLOR: '1', CI: '', ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error && typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : error ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Parses NDJSON strictly: every line must be a JSON object. */
export function parseNdjson(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const value: unknown = JSON.parse(line);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not an object: ${line}`);
      return value as Record<string, unknown>;
    });
}
