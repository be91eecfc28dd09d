import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { ConfigPath } from './locate.js';
import type { RawConfig } from './schema.js';

export { CONFIG_FILE_NAMES, findConfigFile } from './find.js';


/** iac.yaml is a small hand-written file: anything bigger is a mistake (or a trap), refused at once. */
export const MAX_CONFIG_BYTES = 256 * 1024;


export interface LoadedConfig {
  /** Absolute path of iac.yaml. */
  file: string;
  /** The project root: the directory holding iac.yaml; relative paths in it resolve from here. */
  dir: string;
  config: RawConfig;
  /** The file name as shown in messages (relative to the cwd when inside it). */
  displayFile: string;
}

export interface ConfigIssue {
  path: ConfigPath;
  message: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
  /** Point at this path instead (a missing key is shown where its parent map starts). */
  at?: ConfigPath;
}

/**
 * Reads and validates iac.yaml. A file validated before (same bytes, same iac build) is read from
 * `.iac/cache/` without loading the YAML parser and zod — over 150 ms of every command's start-up.
 * `writeCache: false` (--dry-run) reads the cache but creates nothing.
 */
export async function loadConfigFile(file: string, cwd: string = process.cwd(), options: { writeCache?: boolean } = {}): Promise<LoadedConfig> {
  const rel = relative(cwd, file);
  const displayFile = rel && !rel.startsWith('..') ? rel : file;
  const text = readConfigText(file, displayFile);
  const dir = dirname(file);
  const cached = cacheFile(dir, text);
  const hit = cached === undefined ? undefined : readCached(cached);
  if (hit !== undefined) return { file, dir, config: hit, displayFile };
  const { parseConfig } = await import('./parse.js');
  const loaded = parseConfig(text, file, displayFile);
  if (cached !== undefined && options.writeCache !== false) writeCached(dir, cached, loaded.config);
  return loaded;
}

/**
 * The build of iac that validated a cached file: every module of the config layer (parser, schema,
 * checks) by size and mtime, and the package version (npm gives every installed file the same mtime).
 * Running from sources (no built parser), nothing is cached.
 */
function buildKey(): string | undefined {
  try {
    const here = new URL('.', import.meta.url);
    if (!existsSync(new URL('./parse.js', here))) return undefined;
    const modules = readdirSync(here).filter((name) => name.endsWith('.js')).sort();
    const stats = modules.map((name) => {
      const stat = statSync(new URL(name, here));
      return `${name}:${stat.size}:${stat.mtimeMs}`;
    });
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', here), 'utf8')) as { version?: string };
    return [pkg.version ?? '', ...stats].join(' ');
  } catch {
    return undefined;
  }
}

function cacheFile(dir: string, text: string): string | undefined {
  const build = buildKey();
  if (build === undefined) return undefined;
  const hash = createHash('sha256').update(build).update('\0').update(text).digest('hex').slice(0, 32);
  return join(dir, '.iac', 'cache', `config-${hash}.json`);
}

function readCached(path: string): RawConfig | undefined {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return value !== null && typeof value === 'object' && 'environments' in value ? (value as RawConfig) : undefined;
  } catch {
    return undefined;
  }
}

/** Best effort: a read-only project simply validates every time. */
function writeCached(dir: string, path: string, config: RawConfig): void {
  try {
    const base = join(dir, '.iac');
    mkdirSync(join(base, 'cache'), { recursive: true });
    if (!existsSync(join(base, '.gitignore'))) writeFileSync(join(base, '.gitignore'), '# iac run logs and caches; never committed\n*\n');
    writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  } catch {
    // not cached
  }
}

/**
 * Reads iac.yaml only when it is a regular file under {@link MAX_CONFIG_BYTES}: a FIFO would block
 * forever, /dev/zero would never end, a huge file would take minutes to parse. Checked before opening
 * (a FIFO blocks on open) and again on the open descriptor (the file may be swapped in between).
 */
function readConfigText(file: string, displayFile: string): string {
  const refuse = (why: string): never => {
    throw new UsageError('config.unreadable', `${displayFile}: ${why}`, { hint: 'iac.yaml must be a small regular file (a symlink to one is fine)' });
  };
  let fd: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) refuse('not a regular file');
    if (stat.size > MAX_CONFIG_BYTES) refuse(`${stat.size} bytes is more than an iac.yaml can be (${MAX_CONFIG_BYTES} bytes)`);
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('config.unreadable', `cannot read ${displayFile}: ${(error as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) refuse('not a regular file');
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length <= MAX_CONFIG_BYTES; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_CONFIG_BYTES) refuse(`more than ${MAX_CONFIG_BYTES} bytes`);
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

