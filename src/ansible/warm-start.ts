/**
 * `ansible-playbook --syntax-check` through ansible_plugins/warm_start.py: Ansible's own entry point, in a
 * process that can be started before its arguments are known and that skips the interpreter's teardown.
 *
 * Importing Ansible is most of a check (~0.5 s of ~0.6 s) and the push waits for the check, but whether a
 * check is needed (the syntax-check cache) is known only after the commit's files are listed and looked
 * up. So `up` starts the process as soon as its commit is bound ({@link warmStartPlaybook}), in the
 * directory and environment of the working-tree check, unless the last check read the same files (then
 * the cache will answer). It imports Ansible meanwhile; the check takes it if it is for the same command,
 * directory and environment ({@link playbookCheck}), else it is stopped. Only for an installed script
 * that is Ansible's standard entry point; anything else, or a failure before Ansible starts, leaves the
 * check to a plain `ansible-playbook` run.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { type ProcessResult, type RunProcessOptions, type StartedProcess, startProcess } from '../util/run-process.js';
import { syntaxCheckEnv, WORKING_TREE_CHECK_ENV } from './argv.js';
import { rememberListing, type TreeEntry } from './commit-tree.js';
import { findExecutableSync } from './executable.js';
import { syntaxCacheDir } from './syntax-cache.js';

/** What the installed script runs (Debian's /usr/bin/ansible-playbook, pip's and pipx's console script). */
const STANDARD_ENTRY = /^from ansible\.cli\.playbook import main\s*$/m;
/** Never kept waiting longer than this (iac's own exit ends it sooner: its stdin closes). */
const UNUSED_FOR_MS = 30_000;
const MAX_OUTPUT_BYTES = 256 * 1024;
/** The comparison with the last check is one local `git ls-tree`; slower than this, start Ansible anyway. */
const PREDICT_TIMEOUT_MS = 1_000;

/** A started warm_start.py waiting for its arguments. */
interface Started {
  bin: string;
  cwd: string;
  envKey: string;
  process: StartedProcess;
  /** Ansible took over (warm_start.py wrote "started" on fd 3). */
  handedOver: () => boolean;
}

export interface PlaybookCheck {
  readonly pid: number | undefined;
  /** Ansible's answer; undefined when it failed before Ansible began (run ansible-playbook instead). */
  run(args: readonly string[], watch: Pick<RunProcessOptions, 'signal' | 'timeoutMs'>): Promise<ProcessResult | undefined>;
}

/** The one started ahead and not taken yet. */
let waiting: Started | undefined;

/** The interpreter line of `bin` when it is Ansible's standard entry script; undefined otherwise. */
export function standardEntryInterpreter(bin: string): string[] | undefined {
  let text: string;
  try {
    const fd = openSync(bin, 'r');
    try {
      const buffer = Buffer.alloc(4096);
      text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const first = text.split('\n')[0] ?? '';
  if (!first.startsWith('#!') || !STANDARD_ENTRY.test(text)) return undefined;
  const parts = first.slice(2).trim().split(/\s+/).filter((p) => p !== '');
  return parts.length > 0 ? parts : undefined;
}

const envKey = (env: Record<string, string>): string => JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

function start(bin: string, cwd: string, env: Record<string, string>): Started | undefined {
  const interpreter = standardEntryInterpreter(bin);
  if (interpreter === undefined) return undefined;
  const [file, ...flags] = interpreter as [string, ...string[]];
  let started: StartedProcess;
  try {
    started = startProcess(file, [...flags, join(packageRoot(import.meta.url), 'ansible_plugins', 'warm_start.py'), bin], {
      cwd,
      env,
      stdin: 'pipe',
      extraPipes: 1,
      maxOutputBytes: MAX_OUTPUT_BYTES,
    });
  } catch {
    return undefined;
  }
  let handshake = '';
  const child = started.child;
  child.stdio[3]?.on('data', (chunk: Buffer) => (handshake += chunk.toString('utf8')));
  child.stdin?.on('error', () => undefined); // it may be gone before anything is written
  return { bin, cwd, envKey: envKey(env), process: started, handedOver: () => handshake.includes('started') };
}

function asCheck(started: Started): PlaybookCheck {
  return {
    pid: started.process.child.pid,
    async run(args, watch) {
      const { child } = started.process;
      keepsIacAlive(child, true);
      child.stdin?.end(`${JSON.stringify(args)}\n`);
      let result: ProcessResult;
      try {
        result = await started.process.finish(watch);
      } catch {
        return undefined; // the interpreter could not be started
      }
      return result.aborted || result.timedOut || started.handedOver() ? result : undefined;
    },
  };
}

/**
 * Starts Ansible for the working-tree syntax check of `commit` in `cwd` (iac.yaml's directory), unless the
 * last check read exactly the files `commit` has there (one `git ls-tree`). Never throws.
 */
export function warmStartPlaybook(cwd: string, commit: string, base: NodeJS.ProcessEnv = process.env): void {
  if (waiting !== undefined) return;
  const last = readLastCheck(cwd);
  if (last !== undefined && !changedSince(last, commit, base)) return;
  const bin = findExecutableSync('ansible-playbook', base, cwd);
  const started = bin === undefined ? undefined : start(bin, cwd, syntaxCheckEnv(base, WORKING_TREE_CHECK_ENV));
  if (started === undefined) return;
  const { child } = started.process;
  const timer = setTimeout(releaseWarmPlaybook, UNUSED_FOR_MS);
  timer.unref();
  child.once('close', () => clearTimeout(timer));
  keepsIacAlive(child, false); // waiting on its stdin, it must not keep iac running
  waiting = started;
}

/** Whether the child (and its pipes) keep iac's event loop running. */
function keepsIacAlive(child: ChildProcess, alive: boolean): void {
  for (const handle of [child, ...child.stdio]) {
    const refable = handle as { ref?: () => void; unref?: () => void } | null;
    if (alive) refable?.ref?.();
    else refable?.unref?.();
  }
}

/**
 * Whether `commit` has other files than the last check read. Synchronous on purpose: the run's modules
 * are loading now, and an answer waiting in the event loop behind them would start Ansible late.
 */
function changedSince(last: LastCheck, commit: string, env: NodeJS.ProcessEnv): boolean {
  const result = spawnSync('git', ['ls-tree', '--full-tree', '-z', commit, '--', ...last.paths], {
    cwd: last.top,
    env,
    encoding: 'utf8',
    timeout: PREDICT_TIMEOUT_MS,
    maxBuffer: MAX_OUTPUT_BYTES,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  if (result.status !== 0) return true;
  if (/^[0-9a-f]{40,64}$/.test(commit)) rememberListing(last.top, commit, last.paths, result.stdout); // the check's own listing, if its paths are these
  return !sameRecords(treeRecords(result.stdout), last.entries);
}

/**
 * The process for `ansible-playbook --syntax-check` in `cwd` with `env`: the one started ahead when it
 * matches, else a new one; undefined when `bin` is not Ansible's standard entry script.
 */
export function playbookCheck(bin: string, cwd: string, env: Record<string, string>): PlaybookCheck | undefined {
  const ready = waiting;
  if (ready !== undefined && ready.bin === bin && ready.cwd === cwd && ready.envKey === envKey(env)) {
    waiting = undefined;
    return asCheck(ready);
  }
  const started = start(bin, cwd, env);
  return started === undefined ? undefined : asCheck(started);
}

/** Not needed (a cache hit, another directory, no Ansible step, the run stopped): stop it. */
export function releaseWarmPlaybook(): void {
  waiting?.process.stop();
  waiting = undefined;
}

/** The process id of the one started ahead and not taken yet (what tests observe). */
export function waitingPlaybookPid(): number | undefined {
  return waiting?.process.child.pid;
}

/** `git ls-tree -z` output as sorted `type hash<TAB>path` records (the mode left out). */
export function treeRecords(stdout: string): string[] {
  return stdout
    .split('\0')
    .filter((record) => record !== '')
    .map((record) => record.slice(record.indexOf(' ') + 1))
    .sort();
}

function sameRecords(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((record, i) => record === b[i]);
}

/** What the last syntax check (or cache hit) of this project read: see {@link rememberLastCheck}. */
interface LastCheck {
  top: string;
  paths: string[];
  entries: string[];
}

/** Kept next to the cache's entries (syntax-cache.ts prunes only those). */
const LAST_CHECK_NAME = 'last-check.json';

const lastCheckFile = (projectDir: string): string => join(syntaxCacheDir(projectDir), LAST_CHECK_NAME);

function readLastCheck(projectDir: string): LastCheck | undefined {
  try {
    const value = JSON.parse(readFileSync(lastCheckFile(projectDir), 'utf8')) as Partial<LastCheck>;
    const strings = (list: unknown): list is string[] => Array.isArray(list) && list.every((item) => typeof item === 'string');
    if (typeof value.top !== 'string' || !strings(value.paths) || value.paths.length === 0 || !strings(value.entries)) return undefined;
    return { top: value.top, paths: value.paths, entries: value.entries };
  } catch {
    return undefined;
  }
}

/** Remembers the repository paths a check read and their entries in its commit, for the next run's start. */
export async function rememberLastCheck(projectDir: string, check: { top: string; keyPaths: string[]; entries: Array<[string, TreeEntry]> }): Promise<void> {
  const last: LastCheck = {
    top: check.top,
    paths: [...new Set(check.keyPaths)],
    entries: check.entries.map(([path, entry]) => `${entry.type} ${entry.hash}\t${path}`).sort(),
  };
  await writeFile(lastCheckFile(projectDir), `${JSON.stringify(last)}\n`, { mode: 0o600 }).catch(() => undefined);
}
