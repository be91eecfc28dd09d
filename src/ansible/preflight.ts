/**
 * Checks made before anything runs, so mistakes exit 2 with nothing changed: the playbook and the
 * inventory exist, and `ansible-playbook --syntax-check` accepts the playbook. Ansible itself would
 * exit 4 on a parse error and 0 (!) on a missing inventory, so these must be caught here.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { PreflightError, UsageError } from '../errors.js';
import { ANSIBLE_INSTALL_HINT, ansibleEnv, callbackPluginDir } from './argv.js';
import { ansibleErrorText } from './outcome.js';

export interface CheckPlaybookOptions {
  cwd: string;
  playbook: string;
  /** A path (file or dir), several, an inline host list (`a,b,`), or EC2 discovery (`{ ec2: ... }`). */
  inventory?: string | string[] | { ec2: unknown };
  ansiblePlaybookBin?: string;
  signal?: AbortSignal;
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

export async function checkPlaybook(opts: CheckPlaybookOptions): Promise<void> {
  const resolve = (p: string): string => (isAbsolute(p) ? p : join(opts.cwd, p));
  if ((await kindOf(resolve(opts.playbook))) !== 'file') {
    throw new UsageError('ansible.playbook-missing', `playbook not found: ${opts.playbook}`, {
      hint: `check ansible.playbook in iac.yaml (relative to ${opts.cwd})`,
    });
  }
  const inventories = typeof opts.inventory === 'string' ? [opts.inventory] : Array.isArray(opts.inventory) ? opts.inventory : [];
  for (const inventory of inventories) {
    if (inventory.includes(',')) continue; // inline host list, nothing to find on disk
    if ((await kindOf(resolve(inventory))) === undefined) {
      throw new UsageError('ansible.inventory-missing', `inventory not found: ${inventory}`, {
        hint: `check ansible.inventory in iac.yaml (relative to ${opts.cwd})`,
      });
    }
  }

  const bin = opts.ansiblePlaybookBin ?? 'ansible-playbook';
  // EC2 discovery is not needed to check syntax: an inline localhost keeps the check offline.
  const inventoryArgs = inventories.length > 0 ? inventories.flatMap((i) => ['-i', i]) : ['-i', 'localhost,'];
  const { execa } = await import('execa');
  const result = await execa(bin, ['--syntax-check', ...inventoryArgs, opts.playbook], {
    cwd: opts.cwd,
    env: { ...ansibleEnv(callbackPluginDir()), ANSIBLE_STDOUT_CALLBACK: 'default' },
    stdin: 'ignore',
    reject: false,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  if (result.failed && result.code === 'ENOENT') {
    throw new PreflightError('ansible.missing', `${bin} not found on PATH`, { hint: ANSIBLE_INSTALL_HINT });
  }
  if (result.exitCode === 0) return;
  const stderr = String(result.stderr);
  const text = ansibleErrorText(stderr.split('\n'));
  const reason = (text[0] ?? `ansible-playbook --syntax-check exited with ${String(result.exitCode)}`)
    .replace(/^\s*(ERROR!|\[ERROR\]:)\s*/, '')
    .trim();
  const where = parseErrorLocation(stderr);
  const location = where ? `${relative(opts.cwd, where.file) || opts.playbook}:${where.line}:${where.column}` : opts.playbook;
  // A YAML error's first line is generic; the useful reason follows "Syntax Error while loading YAML."
  const yamlReason = /Syntax Error while loading YAML\.\s*\n\s*(.+)/.exec(stderr)?.[1]?.trim();
  throw new UsageError('ansible.syntax', `${location}: ${yamlReason ? `YAML: ${yamlReason}` : reason}`, {
    hint: `ansible-playbook --syntax-check ${opts.playbook}`,
    details: text,
  });
}
