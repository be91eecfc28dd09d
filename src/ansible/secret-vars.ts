/**
 * Secret extra vars never go on the command line (visible in /proc/<pid>/cmdline and `ps`): they are
 * written to a 0600 JSON file in a private 0700 temp dir, passed as `-e @file`, and removed afterwards.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SecretVarsFile {
  path: string;
  remove(): Promise<void>;
}

export async function writeSecretVarsFile(vars: Record<string, unknown>): Promise<SecretVarsFile> {
  const dir = await mkdtemp(join(tmpdir(), 'iac-ansible-'));
  const path = join(dir, 'secret-vars.json');
  await writeFile(path, JSON.stringify(vars), { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Every string (and number) inside the secret vars, so output can be redacted of them. */
export function secretStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(secretStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(secretStrings);
  return [];
}
