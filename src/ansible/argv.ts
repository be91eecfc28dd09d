/**
 * Pure helpers that build the `ansible-playbook` command line and environment. No heavy imports:
 * `iac up --dry-run` prints this argv without loading anything or running anything.
 */
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';
import { childEnvironment } from './child-env.js';

export interface PlaybookArgvOptions {
  playbook: string;
  inventory?: string | string[];
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** Non-secret extra vars: passed as one `-e '<json>'` so types survive (`-e k=v` makes every value a string). */
  extraVars?: Record<string, unknown>;
  /** Where Ansible reads the secret extra vars (`-e @<path>`): a pipe, never a file on disk, never inline. */
  secretVarsPath?: string;
  check?: boolean;
  diff?: boolean;
}

/** The argv after `ansible-playbook`. Argument array only; never joined into a shell string. */
export function ansiblePlaybookArgv(opts: PlaybookArgvOptions): string[] {
  const argv: string[] = [];
  const inventories = opts.inventory === undefined ? [] : Array.isArray(opts.inventory) ? opts.inventory : [opts.inventory];
  for (const inventory of inventories) argv.push('-i', inventory);
  if (opts.limit) argv.push('--limit', opts.limit);
  if (opts.tags && opts.tags.length > 0) argv.push('--tags', opts.tags.join(','));
  if (opts.skipTags && opts.skipTags.length > 0) argv.push('--skip-tags', opts.skipTags.join(','));
  if (opts.extraVars && Object.keys(opts.extraVars).length > 0) argv.push('-e', JSON.stringify(opts.extraVars));
  if (opts.secretVarsPath) argv.push('-e', `@${opts.secretVarsPath}`);
  if (opts.check) argv.push('--check');
  if (opts.diff) argv.push('--diff');
  argv.push(opts.playbook);
  return argv;
}

export const ANSIBLE_INSTALL_HINT = 'sudo apt-get install ansible-core   (or: pipx install ansible-core)';

/** Name under which the shipped notification callback registers (ansible_plugins/callback/iac_events.py). */
export const CALLBACK_NAME = 'iac_events';

/** Child descriptors: 3 carries the callback's JSON lines to iac, 4 is the lifeline iac holds open. */
export const EVENTS_FD = 3;
export const CONTROL_FD = 4;

/**
 * Environment that loads the shipped callback next to the user's own stdout callback (the default one
 * unless configured), so stdout stays Ansible's own human output and events arrive on {@link EVENTS_FD}.
 * INVENTORY_UNPARSED_FAILED: without it a wrong `-i` silently falls back to localhost and exits 0.
 */
export function ansibleEnv(
  pluginDir: string = callbackPluginDir(),
  inheritedPluginPath: string | undefined = process.env.ANSIBLE_CALLBACK_PLUGINS,
): Record<string, string> {
  return {
    // Keep a user's own callback plugin path working next to ours.
    ANSIBLE_CALLBACK_PLUGINS: inheritedPluginPath ? `${pluginDir}:${inheritedPluginPath}` : pluginDir,
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_INVENTORY_UNPARSED_FAILED: '1',
    PYTHONUNBUFFERED: '1',
    IAC_EVENTS_FD: String(EVENTS_FD),
    IAC_CONTROL_FD: String(CONTROL_FD),
  };
}

/**
 * What a working-tree syntax check adds: it writes nothing there — not an ansible.cfg `log_path` (Ansible
 * logs the check too), not Python bytecode caches of plugins.
 */
export const WORKING_TREE_CHECK_ENV: Readonly<Record<string, string>> = { PYTHONDONTWRITEBYTECODE: '1', ANSIBLE_LOG_PATH: '/dev/null' };

/** The environment of `ansible-playbook --syntax-check`: a run's, without its event and control sockets. */
export function syntaxCheckEnv(base: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const { IAC_EVENTS_FD: _events, IAC_CONTROL_FD: _control, ...settings } = ansibleEnv(callbackPluginDir());
  return { ...childEnvironment(base), ...settings, ...extra };
}

/** `<package root>/ansible_plugins/callback` (works from src/ and dist/). */
export function callbackPluginDir(from: string = import.meta.url): string {
  return join(packageRoot(from), 'ansible_plugins', 'callback');
}

/** For display only: the argv is always passed as an array, never through a shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command a person can paste: `cd <dir> && <argv>` (ansible.cfg is read from the working directory). */
export function commandLine(cwd: string, argv: string[]): string {
  return `cd ${shellQuote(cwd)} && ${argv.map(shellQuote).join(' ')}`;
}
