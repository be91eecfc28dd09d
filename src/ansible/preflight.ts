/**
 * Checks made before anything runs, so mistakes exit 2 with nothing changed: the playbook and the
 * inventory exist, and `ansible-playbook --syntax-check` accepts the playbook. Ansible itself would
 * exit 4 on a parse error and 0 (!) on a missing inventory, so these must be caught here.
 *
 * For a run (a commit given) the check is of the commit's files, and a success is remembered
 * (syntax-cache.ts): the next run of unchanged Ansible files costs one `git ls-tree` instead of an Ansible
 * start-up (~0.6 s). On a miss the working tree's files are checked at once while git says whether they
 * are exactly the commit's (the usual case); only when they are not is the commit written out to a
 * private temporary directory and checked there.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { InterruptedError, PreflightError, UsageError } from '../errors.js';
import { runProcess, SpawnError } from '../util/run-process.js';
import { ANSIBLE_INSTALL_HINT, syntaxCheckEnv, WORKING_TREE_CHECK_ENV } from './argv.js';
import { materializeCommit, repoLocation, repoPath, sameInWorkingTree } from './commit-tree.js';
import { executableIdentity, requireAnsible } from './executable.js';
import { ansibleErrorText } from './outcome.js';
import { commitSources, outsidePaths, placeIn } from './sources.js';
import { ansibleSettings, outsideFingerprint, projectSyntaxCache, syntaxCacheKey } from './syntax-cache.js';
import { playbookCheck, rememberLastCheck } from './warm-start.js';

/** A syntax check reads files only; a minute means something is stuck (a vars prompt, a hung filesystem). */
const SYNTAX_CHECK_TIMEOUT_MS = 60_000;

export interface CheckPlaybookOptions {
  /** iac.yaml's directory (paths are relative to it). */
  cwd: string;
  playbook: string;
  /** A path (file or dir), several, an inline host list (`a,b,`), or EC2 discovery (`{ ec2: ... }`). */
  inventory?: string | string[] | { ec2: unknown };
  /** The run's commit: check its files (and use the cache) instead of the working tree's. */
  sha?: string;
  ansiblePlaybookBin?: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface CheckPlaybookResult {
  /** The success came from the cache: no ansible-playbook was started. */
  cached: boolean;
}

export interface SyntaxLocation {
  file: string;
  line: number;
  column: number;
}

/** `The error appears to be in '/x/site.yml': line 4, column 7` → where; undefined when not given. */
export function parseErrorLocation(stderr: string): SyntaxLocation | undefined {
  const match = /error appears to be in '([^']+)': line (\d+), column (\d+)/.exec(stderr);
  if (!match) return undefined;
  return { file: match[1] as string, line: Number(match[2]), column: Number(match[3]) };
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

function inventoryList(inventory: CheckPlaybookOptions['inventory']): string[] {
  return typeof inventory === 'string' ? [inventory] : Array.isArray(inventory) ? inventory : [];
}

export async function checkPlaybook(opts: CheckPlaybookOptions): Promise<CheckPlaybookResult> {
  const env = opts.env ?? process.env;
  const abs = (p: string): string => (isAbsolute(p) ? p : join(opts.cwd, p));
  const bin = await requireAnsible(opts.ansiblePlaybookBin ?? 'ansible-playbook', env);
  const inventories = inventoryList(opts.inventory);
  if (opts.sha === undefined) {
    await checkOnDisk(opts.cwd, abs(opts.playbook), inventories.map((i) => (i.includes(',') ? i : abs(i))));
    await syntaxCheck({ bin, cwd: opts.cwd, playbook: opts.playbook, inventories, env, ...(opts.signal ? { signal: opts.signal } : {}) });
    return { cached: false };
  }

  const playbook = abs(opts.playbook);
  const inventoryPaths = inventories.map((i) => (i.includes(',') ? i : abs(i)));
  const location = await repoLocation(opts.cwd, opts.signal);
  // The commit's entries (one git call) while the rest of the key is gathered: both are needed on a miss.
  const sourcesRead = commitSources({
    projectDir: opts.cwd,
    location,
    sha: opts.sha,
    playbook,
    inventories: inventoryPaths,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  sourcesRead.catch(() => undefined);
  // Everything but the files' contents, which the commit fixes: re-running a commit costs no process at all.
  // Files outside the repository, and inventories (one may be generated and git-ignored), by content.
  const outside = [playbook, ...inventoryPaths].filter(
    (p) => !p.includes(',') && (inventoryPaths.includes(p) || repoPath(p, opts.cwd, location.prefix) === undefined),
  );
  const [cache, fingerprints, identity] = await Promise.all([
    projectSyntaxCache(opts.cwd),
    Promise.all(outside.map(async (p) => [p, await outsideFingerprint(p)])),
    executableIdentity(bin),
  ]);
  const setting = [
    location.prefix,
    [playbook, ...inventoryPaths].map((p) => (p.includes(',') ? p : (repoPath(p, opts.cwd, location.prefix) ?? p))),
    inventories.length === 0 ? 'ec2' : 'paths',
    fingerprints,
    identity,
    ansibleSettings(env),
  ];
  const commitKey = syntaxCacheKey(['ansible-syntax-commit-v1', opts.sha, setting]);
  if (cache.has(commitKey)) return { cached: true };

  const sources = await sourcesRead;
  // A success: for this content, this commit, and (warm-start.ts) the files the next run compares with.
  const remember = async (...keys: string[]): Promise<void> => {
    for (const k of keys) await cache.remember(k);
    await rememberLastCheck(opts.cwd, sources);
  };
  // The contents: git's object ids of the playbook's directory, inventories, ansible.cfg and roles/.
  const key = syntaxCacheKey(['ansible-syntax-v1', setting, sources.entries, await Promise.all(outsidePaths(sources).map(async (p) => [p, await outsideFingerprint(p)]))]);
  if (cache.has(key)) {
    await remember(commitKey);
    return { cached: true };
  }

  // Ansible's start-up is most of the check's time and the push waits for it: check the working tree's
  // files at once, while git says whether they are the commit's. That answer counts only if they are.
  const early = checkWorkingTree({ bin, cwd: opts.cwd, playbook: opts.playbook, inventories, env, ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    if (await sameInWorkingTree(sources.top, sources.sha, sources.keyPaths, opts.signal)) {
      await early.verdict;
      await remember(key, commitKey);
      return { cached: false };
    }
  } finally {
    early.stop();
  }
  const scratch = await mkdtemp(join(tmpdir(), 'iac-syntax-'));
  try {
    const tree = await materializeCommit(sources.top, sources.sha, join(scratch, 'tree'), opts.signal);
    const placed = placeIn(sources, tree);
    await syntaxCheck({
      bin,
      cwd: placed.cwd,
      playbook: placed.playbook,
      inventories: placed.inventories,
      env,
      shownRoot: placed.cwd,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  await remember(key, commitKey);
  return { cached: false };
}

async function checkOnDisk(cwd: string, playbook: string, inventories: string[]): Promise<void> {
  if ((await kindOf(playbook)) !== 'file') {
    throw new UsageError('ansible.playbook-missing', `playbook not found: ${relative(cwd, playbook) || playbook}`, {
      hint: `check ansible.playbook in iac.yaml (relative to ${cwd})`,
    });
  }
  for (const inventory of inventories) {
    if (inventory.includes(',')) continue; // inline host list, nothing to find on disk
    if ((await kindOf(inventory)) === undefined) {
      throw new UsageError('ansible.inventory-missing', `inventory not found: ${relative(cwd, inventory) || inventory}`, {
        hint: `check ansible.inventory in iac.yaml (relative to ${cwd})`,
      });
    }
  }
}

interface SyntaxCheckRun {
  bin: string;
  cwd: string;
  playbook: string;
  inventories: string[];
  env: NodeJS.ProcessEnv;
  /** Locations in errors are shown relative to this directory. */
  shownRoot?: string;
  signal?: AbortSignal;
  /** Added to the environment. */
  extraEnv?: Readonly<Record<string, string>>;
}

async function syntaxCheck(run: SyntaxCheckRun): Promise<void> {
  // EC2 discovery is not needed to check syntax: an inline localhost keeps the check offline.
  const inventoryArgs = run.inventories.length > 0 ? run.inventories.flatMap((i) => ['-i', i]) : ['-i', 'localhost,'];
  const args = ['--syntax-check', ...inventoryArgs, run.playbook];
  const env = syntaxCheckEnv(run.env, run.extraEnv);
  const watch = { timeoutMs: SYNTAX_CHECK_TIMEOUT_MS, ...(run.signal ? { signal: run.signal } : {}) };
  // Through warm-start.ts (maybe started ahead by `up`); the plain script when that is not possible.
  const result =
    (await playbookCheck(run.bin, run.cwd, env)?.run(args, watch)) ??
    (await runProcess(run.bin, args, { cwd: run.cwd, env, maxOutputBytes: 256 * 1024, ...watch }).catch((error: unknown) => {
      throw error instanceof SpawnError ? new PreflightError('ansible.missing', `cannot run ${run.bin}`, { hint: ANSIBLE_INSTALL_HINT }) : error;
    }));
  if (result.aborted) throw new InterruptedError('ansible-playbook --syntax-check interrupted');
  if (result.timedOut) {
    throw new PreflightError('ansible.syntax-timeout', `ansible-playbook --syntax-check gave no answer within ${SYNTAX_CHECK_TIMEOUT_MS / 1000}s`, {
      hint: `ansible-playbook --syntax-check ${run.playbook}`,
    });
  }
  if (result.exitCode === 0) return;
  const text = ansibleErrorText(result.stderr.split('\n'));
  const reason = (text[0] ?? `ansible-playbook --syntax-check exited with ${String(result.exitCode)}`)
    .replace(/^\s*(ERROR!|\[ERROR\]:)\s*/, '')
    .trim();
  const where = parseErrorLocation(result.stderr);
  const root = run.shownRoot ?? run.cwd;
  const shownPlaybook = relative(root, resolve(run.cwd, run.playbook)) || run.playbook;
  const location = where ? `${relative(root, where.file) || shownPlaybook}:${where.line}:${where.column}` : shownPlaybook;
  // A YAML error's first line is generic; the useful reason follows "Syntax Error while loading YAML."
  const yamlReason = /Syntax Error while loading YAML\.\s*\n\s*(.+)/.exec(result.stderr)?.[1]?.trim();
  // A file the playbook includes but that is missing (from the commit): name it, as the run saw it.
  const missing = /Could not find or access '([^']+)'/.exec(result.stderr)?.[1];
  const missingText = missing !== undefined ? `: cannot find ${isAbsolute(missing) ? relative(root, missing) : missing}` : '';
  throw new UsageError('ansible.syntax', `${location}: ${yamlReason ? `YAML: ${yamlReason}` : `${reason}${missingText}`}`, {
    hint: `ansible-playbook --syntax-check ${shownPlaybook}`,
    details: text,
  });
}

interface WorkingTreeCheck {
  /** The check's verdict on the working tree's files (rejects as the commit's check would). */
  readonly verdict: Promise<void>;
  /** Not needed (a cache hit, or files that differ from the commit's): kill it. */
  stop(): void;
}

/**
 * `--syntax-check` of the working tree's files, writing nothing there: not an ansible.cfg `log_path`
 * (Ansible logs the check too), not Python bytecode caches of plugins.
 */
function checkWorkingTree(run: Omit<SyntaxCheckRun, 'extraEnv'>): WorkingTreeCheck {
  const stop = new AbortController();
  const signal = run.signal ? AbortSignal.any([run.signal, stop.signal]) : stop.signal;
  const verdict = syntaxCheck({ ...run, signal, extraEnv: WORKING_TREE_CHECK_ENV });
  verdict.catch(() => undefined);
  return { verdict, stop: () => stop.abort() };
}
