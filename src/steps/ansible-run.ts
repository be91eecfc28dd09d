import { join } from 'node:path';
import { ansiblePlaybookArgv, CALLBACK_NAME } from '../ansible/argv.js';
import type { AnsibleEvent, HostCounts } from '../ansible/events.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { PreflightError } from '../errors.js';
import type { Step, StepContext } from '../pipeline/types.js';
import { prepareInventory, describeInventory } from './inventory-source.js';

type AnsibleSettings = NonNullable<ResolvedEnvironment['ansible']>;

/** Runs the environment's playbook; task-by-task progress from the shipped JSON-lines callback. */
export function ansibleStep(env: ResolvedEnvironment, settings: AnsibleSettings, verbose: boolean): Step {
  const secretNames = Object.keys(settings.secretExtraVars);
  const displayArgv = ansiblePlaybookArgv({
    playbook: settings.playbook,
    inventory: describeInventory(settings.inventory),
    ...(settings.limit !== undefined ? { limit: settings.limit } : {}),
    ...(settings.tags ? { tags: settings.tags } : {}),
    ...(settings.skipTags ? { skipTags: settings.skipTags } : {}),
    extraVars: settings.extraVars,
    ...(secretNames.length > 0 ? { secretVarsFile: '<0600 temp file>' } : {}),
    check: settings.check,
    diff: settings.check,
    verbose,
  });
  return {
    id: 'ansible',
    title: `Run ${relativeTo(env.projectDir, settings.playbook)}`,
    describe: () => [
      `would run: ansible-playbook ${displayArgv.map(shellQuote).join(' ')}`,
      `in ${env.projectDir}, with ANSIBLE_STDOUT_CALLBACK=${CALLBACK_NAME}`,
      ...(secretNames.length > 0
        ? [`secret extra vars ${secretNames.join(', ')} from ${Object.values(settings.secretExtraVars).map((n) => `$${n}`).join(', ')} (0600 file, deleted after)`]
        : []),
    ],
    async preflight(signal) {
      missingSecretVars(settings.secretExtraVars);
      const { checkPlaybook } = await import('../ansible/preflight.js');
      await checkPlaybook({ cwd: env.projectDir, playbook: settings.playbook, inventory: settings.inventory, signal });
    },
    async run(ctx) {
      const secretExtraVars = readSecretVars(settings.secretExtraVars, ctx);
      const inventory = await prepareInventory(settings.inventory, ctx);
      const { runPlaybook } = await import('../ansible/run-playbook.js');
      const totals = { tasks: 0, ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
      ctx.intent('playbook', { playbook: relativeTo(env.projectDir, settings.playbook), sha: env.sha });
      const result = await runPlaybook({
        cwd: env.projectDir,
        playbook: settings.playbook,
        inventory,
        ...(settings.limit !== undefined ? { limit: settings.limit } : {}),
        ...(settings.tags ? { tags: settings.tags } : {}),
        ...(settings.skipTags ? { skipTags: settings.skipTags } : {}),
        extraVars: settings.extraVars,
        secretExtraVars,
        check: settings.check,
        diff: settings.check,
        logFile: join(ctx.runDir, 'ansible.log'),
        signal: ctx.signal,
        onEvent: (event) => {
          if (event.type === 'task') {
            totals.tasks += 1;
            for (const key of ['ok', 'changed', 'failed', 'skipped', 'unreachable'] as const) totals[key] += event.hosts[key];
          }
          const line = describeAnsibleEvent(event);
          if (line !== undefined) {
            ctx.progress(line);
            ctx.log(line);
          }
        },
      });
      ctx.outcome('playbook', true, { hosts: Object.keys(result.stats).length });
      for (const warning of result.warnings) ctx.warn(warning);
      for (const problem of result.ignoredFailures) ctx.warn(`ignored failure: ${problem.task} on ${problem.host}${problem.msg ? `: ${problem.msg}` : ''}`);
      const hosts = Object.keys(result.stats).length;
      return {
        summary: `${totals.tasks} tasks on ${hosts} host${hosts === 1 ? '' : 's'}: ok=${totals.ok} changed=${totals.changed}${settings.check ? ' (check mode)' : ''}`,
      };
    },
  };
}

/** Secret extra vars come from the environment: a missing one stops the run before anything changes. */
function missingSecretVars(names: Record<string, string>): void {
  for (const [name, envName] of Object.entries(names)) {
    if (process.env[envName] !== undefined) continue;
    throw new PreflightError('ansible.secret-missing', `secret extra var ${name} needs environment variable ${envName}, which is not set`, {
      hint: `export ${envName}=...  (it is passed to Ansible in a 0600 file, never on the command line)`,
    });
  }
}

function readSecretVars(names: Record<string, string>, ctx: StepContext): Record<string, string> {
  missingSecretVars(names);
  const values: Record<string, string> = {};
  for (const [name, envName] of Object.entries(names)) {
    const value = process.env[envName] as string;
    ctx.secret(value);
    values[name] = value;
  }
  return values;
}

function describeAnsibleEvent(event: AnsibleEvent): string | undefined {
  switch (event.type) {
    case 'play':
      return `play: ${event.name}`;
    case 'task': {
      const h = event.hosts;
      // A task no host finished (the run was interrupted during it) is not a success.
      const mark = h.failed + h.unreachable > 0 ? '✗' : h.ok + h.changed + h.skipped + h.ignored === 0 ? '·' : '✓';
      return `${mark} ${event.handler ? 'handler: ' : ''}${event.name}  ${formatCounts(h)}`;
    }
    case 'no-hosts':
      return `play ${event.play}: no hosts matched`;
    default:
      return undefined;
  }
}

function formatCounts(counts: HostCounts): string {
  return (['ok', 'changed', 'failed', 'skipped', 'unreachable', 'ignored'] as const)
    .filter((key) => counts[key] > 0 || key === 'ok')
    .map((key) => `${key}=${counts[key]}`)
    .join(' ');
}

function relativeTo(dir: string, path: string): string {
  return path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : path;
}

/** For display only: the argv is always passed as an array, never through a shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
