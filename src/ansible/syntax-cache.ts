/**
 * A remembered `ansible-playbook --syntax-check` success. The key is a hash of everything the check reads:
 * the git object ids (content hashes) of the playbook's directory (its roles/, group_vars/, vars files …),
 * of each inventory and of the project's ansible.cfg and roles/ in the run's commit; the contents of
 * files outside the repository; the ansible-playbook executable's identity (an upgrade replaces it) and
 * the ANSIBLE_* settings. A hit costs one `git ls-tree` and no Ansible start-up.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Entries kept; older ones are removed when a new one is written. */
const KEPT_ENTRIES = 50;

export function syntaxCacheKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** `ANSIBLE_*` variables, sorted: they can change where roles and collections come from. */
export function ansibleSettings(env: NodeJS.ProcessEnv): Array<[string, string]> {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => entry[0].startsWith('ANSIBLE_') && entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Content hash of a path outside the repository: a file's bytes, a directory's listing and times. */
export async function outsideFingerprint(path: string): Promise<string> {
  try {
    const s = await stat(path);
    if (s.isFile()) return createHash('sha256').update(await readFile(path)).digest('hex');
    const names = (await readdir(path)).sort();
    return `dir ${Math.round(s.mtimeMs)} ${names.join('/')}`;
  } catch {
    return 'missing';
  }
}

export class SyntaxCache {
  constructor(private readonly dir: string) {}

  has(key: string): boolean {
    return existsSync(join(this.dir, key));
  }

  async remember(key: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, key);
    await writeFile(file, `${new Date().toISOString()}\n`, { mode: 0o600 });
    const now = new Date();
    await utimes(file, now, now);
    await this.prune();
  }

  private async prune(): Promise<void> {
    // Entries only (hex keys), not the note warm-start.ts keeps here.
    const names = (await readdir(this.dir)).filter((name) => /^[0-9a-f]{64}$/.test(name));
    if (names.length <= KEPT_ENTRIES) return;
    const dated = await Promise.all(names.map(async (name) => ({ name, mtime: (await stat(join(this.dir, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
    dated.sort((a, b) => b.mtime - a.mtime);
    await Promise.all(dated.slice(KEPT_ENTRIES).map(({ name }) => rm(join(this.dir, name), { force: true })));
  }
}

/** `<project>/.iac/cache/ansible-syntax` (`.iac/` ignores itself, so the cache never dirties the tree). */
export async function projectSyntaxCache(projectDir: string): Promise<SyntaxCache> {
  const base = join(projectDir, '.iac');
  await mkdir(base, { recursive: true });
  const ignore = join(base, '.gitignore');
  if (!existsSync(ignore)) await writeFile(ignore, '# iac run logs and caches; never committed\n*\n');
  return new SyntaxCache(syntaxCacheDir(projectDir));
}

/** Where a project's syntax-check cache lives. */
export function syntaxCacheDir(projectDir: string): string {
  return join(projectDir, '.iac', 'cache', 'ansible-syntax');
}
