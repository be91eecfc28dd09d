/** ansible: the tool and its version, the inventory, the playbook's syntax, the secret variables. */
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { ANSIBLE_INSTALL_HINT } from '../ansible/argv.js';
import type { EnvironmentTarget } from '../config/resolve.js';
import { fail, pass, warn, type CheckSpec } from './types.js';

type AnsibleSettings = NonNullable<EnvironmentTarget['ansible']>;

/** `ansible-playbook --version` → `ansible-playbook [core 2.16.3]`. One per run, not per environment. */
export function ansibleToolCheck(bin = 'ansible-playbook'): CheckSpec {
  return {
    id: 'ansible.tool',
    label: 'ansible-playbook',
    hint: ANSIBLE_INSTALL_HINT,
    async run(signal) {
      const { execa } = await import('execa');
      const result = await execa(bin, ['--version'], { stdin: 'ignore', reject: false, cancelSignal: signal, env: { ANSIBLE_NOCOLOR: '1' } });
      if (result.failed && result.code === 'ENOENT') return fail(`${bin} not found on PATH`, ANSIBLE_INSTALL_HINT);
      const first = String(result.stdout).split('\n')[0]?.trim() ?? '';
      if (result.exitCode !== 0) return fail(`${bin} --version exited with ${String(result.exitCode)}: ${String(result.stderr).split('\n')[0] ?? ''}`, ANSIBLE_INSTALL_HINT);
      return pass(first === '' ? `${bin} found` : first);
    },
  };
}

/** Each inventory path exists (inline `a,b,` host lists have nothing to find; EC2 discovery is the aws checks'). */
export function inventoryCheck(env: string, projectDir: string, ansible: AnsibleSettings): CheckSpec {
  return {
    id: 'ansible.inventory',
    env,
    label: 'ansible inventory',
    async run() {
      if (!Array.isArray(ansible.inventory)) return pass('discovered from EC2 tags (see the aws checks)');
      const shown = ansible.inventory.map((path) => (path.includes(',') ? path : relative(projectDir, path) || path));
      for (const [i, path] of ansible.inventory.entries()) {
        if (path.includes(',')) continue;
        const found = await stat(path).then(() => true, () => false);
        if (!found) return fail(`${shown[i] ?? path} not found`, `create it, or fix ansible.inventory in iac.yaml (relative to ${projectDir})`);
      }
      return pass(shown.join(', '));
    },
  };
}

/** `ansible-playbook --syntax-check`: a mistake shows as `file:line:column: reason`. */
export function syntaxCheck(env: string, projectDir: string, ansible: AnsibleSettings, requires: CheckSpec[]): CheckSpec {
  const playbook = relative(projectDir, ansible.playbook) || ansible.playbook;
  return {
    id: 'ansible.syntax',
    env,
    label: 'ansible syntax',
    requires,
    async run(signal) {
      const { checkPlaybook } = await import('../ansible/preflight.js');
      await checkPlaybook({
        cwd: projectDir,
        playbook: ansible.playbook,
        ...(Array.isArray(ansible.inventory) ? { inventory: ansible.inventory } : {}),
        signal,
      });
      return pass(`${playbook}: syntax OK`);
    },
  };
}

/** Secret extra vars come from environment variables: each must be set. Names only, never values. */
export function secretVarsCheck(env: string, ansible: AnsibleSettings, environment: NodeJS.ProcessEnv): CheckSpec {
  return {
    id: 'ansible.secrets',
    env,
    label: 'ansible secrets',
    async run() {
      const entries = Object.entries(ansible.secretExtraVars);
      const missing = entries.filter(([, name]) => environment[name] === undefined);
      const empty = entries.filter(([, name]) => environment[name] === '');
      if (missing.length > 0) {
        const names = missing.map(([variable, name]) => `${name} (for ${variable})`).join(', ');
        return fail(`not set: ${names}`, `export ${missing.map(([, name]) => `${name}=…`).join(' ')}`);
      }
      if (empty.length > 0) return warn(`set but empty: ${empty.map(([, name]) => name).join(', ')}`);
      return pass(`${entries.map(([, name]) => name).join(', ')} set`);
    },
  };
}
