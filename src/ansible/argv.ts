/**
 * Pure helpers that build the `ansible-playbook` command line and environment. No heavy imports:
 * `iac up --dry-run` prints this argv without loading execa or running anything.
 */
import { join } from 'node:path';
import { packageRoot } from '../util/package-root.js';

export interface PlaybookArgvOptions {
  playbook: string;
  inventory?: string | string[];
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** Non-secret extra vars: passed as one `-e '<json>'` so types survive (`-e k=v` makes every value a string). */
  extraVars?: Record<string, unknown>;
  /** Path of the 0600 JSON file holding the secret extra vars: passed as `-e @<file>`, never inline. */
  secretVarsFile?: string;
  check?: boolean;
  diff?: boolean;
  verbose?: boolean;
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
  if (opts.secretVarsFile) argv.push('-e', `@${opts.secretVarsFile}`);
  if (opts.check) argv.push('--check');
  if (opts.diff) argv.push('--diff');
  if (opts.verbose) argv.push('-v');
  argv.push(opts.playbook);
  return argv;
}

export const ANSIBLE_INSTALL_HINT = 'sudo apt-get install ansible-core   (or: pipx install ansible-core)';

/** Name under which the shipped stdout callback registers (ansible_plugins/callback/iac_jsonl.py). */
export const CALLBACK_NAME = 'iac_jsonl';

/**
 * Environment that makes `ansible-playbook` stream one JSON line per event through the shipped callback.
 * INVENTORY_UNPARSED_FAILED: without it a wrong `-i` silently falls back to localhost and exits 0.
 */
export function ansibleEnv(
  pluginDir: string = callbackPluginDir(),
  inheritedPluginPath: string | undefined = process.env.ANSIBLE_CALLBACK_PLUGINS,
): Record<string, string> {
  return {
    // Keep a user's own callback plugin path working next to ours.
    ANSIBLE_CALLBACK_PLUGINS: inheritedPluginPath ? `${pluginDir}:${inheritedPluginPath}` : pluginDir,
    ANSIBLE_STDOUT_CALLBACK: CALLBACK_NAME,
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_INVENTORY_UNPARSED_FAILED: '1',
    PYTHONUNBUFFERED: '1',
  };
}

/** `<package root>/ansible_plugins/callback` (works from src/ and dist/). */
export function callbackPluginDir(from: string = import.meta.url): string {
  return join(packageRoot(from), 'ansible_plugins', 'callback');
}
