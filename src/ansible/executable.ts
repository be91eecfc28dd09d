/**
 * Finding `ansible-playbook` without running it: a PATH lookup (what a shell would run), the file's
 * identity (for the syntax-check cache: an upgrade replaces the file) and its interpreter line.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { PreflightError } from '../errors.js';
import { ANSIBLE_INSTALL_HINT } from './argv.js';

/** The absolute path a shell would run for `name` (a bare name is looked up on PATH); undefined if none. */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Promise<string | undefined> {
  return findExecutableSync(name, env, cwd);
}

export function findExecutableSync(name: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  const candidates = name.includes('/')
    ? [isAbsolute(name) ? name : resolve(cwd, name)]
    : (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, name));
  // Synchronous on purpose: a few system calls, not a round of thread-pool hops on a busy start-up.
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function requireAnsible(name: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const found = await findExecutable(name, env);
  if (!found) throw new PreflightError('ansible.missing', `${name} not found on PATH`, { hint: ANSIBLE_INSTALL_HINT });
  return found;
}

/** `realpath size mtime`: changes when the installed Ansible is upgraded or replaced. */
export async function executableIdentity(path: string): Promise<string> {
  const real = await realpath(path);
  const s = await stat(real);
  return `${real} ${s.size} ${Math.round(s.mtimeMs)}`;
}

/**
 * The interpreter command of a script (`#!/usr/bin/python3` → ['/usr/bin/python3'],
 * `#!/usr/bin/env python3` → ['/usr/bin/env', 'python3']); ['python3'] when the file has none.
 */
export async function interpreterOf(path: string): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const first = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
    if (!first.startsWith('#!')) return ['python3'];
    const parts = first.slice(2).trim().split(/\s+/).filter((p) => p !== '');
    return parts.length > 0 ? parts : ['python3'];
  } finally {
    await handle.close();
  }
}
