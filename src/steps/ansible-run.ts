import { join, relative } from 'node:path';
import { ansiblePlaybookArgv, CALLBACK_NAME, shellQuote } from '../ansible/argv.js';
import type { AnsibleEvent, HostCounts, HostStats } from '../ansible/events.js';
import type { ResolvedEnvironment } from '../config/resolve.js';
import { AnsibleError, PreflightError } from '../errors.js';
import type { Step, StepContext, StepResult } from '../pipeline/types.js';
import { describeInventory, writeInventory } from './inventory-source.js';

type AnsibleSettings = NonNullable<ResolvedEnvironment['ansible']>;

/**
 * Runs the environment's playbook as it is in the run's commit (`env.sha`): the commit's files are
 * written to `<run dir>/tree` and ansible-playbook runs there, so uncommitted edits or another checked-out
 * branch never change what is deployed. Ansible's own output goes to ansible.log (and --verbose); the
 * task list and the totals come from the shipped callback's events and Ansible's own stats.
 * `followedByRollout`: the rollout comes next, so the step ends at Ansible's clean final stats and lets
 * the process exit while the rollout starts.
 */
export function ansibleStep(env: ResolvedEnvironment, settings: AnsibleSettings, options: { followedByRollout: boolean; syntaxChecked?: Promise<void> }): Step {
  const secretNames = Object.keys(settings.secretExtraVars);
  const shown = (path: string): string => (path.includes(',') ? path : relative(env.projectDir, path) || path);
  const displayArgv = ansiblePlaybookArgv({
    playbook: shown(settings.playbook),
    inventory: Array.isArray(settings.inventory) ? settings.inventory.map(shown) : describeInventory(settings.inventory),
    ...(settings.limit !== undefined ? { limit: settings.limit } : {}),
    ...(settings.tags ? { tags: settings.tags } : {}),
    ...(settings.skipTags ? { skipTags: settings.skipTags } : {}),
    extraVars: settings.extraVars,
    ...(secretNames.length > 0 ? { secretVarsPath: '<private fifo>' } : {}),
    check: settings.check,
    diff: settings.check,
  });
  const short = env.sha.slice(0, 7);
  /** The playbook started early by `warmUp`, held until `run` releases it. */
  let early: { release: () => void; result: Promise<StepResult> } | undefined;
  return {
    id: 'ansible',
    title: `Run ${shown(settings.playbook)}`,
    describe: () => [
      `would run: ansible-playbook ${displayArgv.map(shellQuote).join(' ')}`,
      `playbook, roles, inventory and vars files from commit ${short} (${env.branch}), not the working tree: written to .iac/runs/<run>/tree and run there`,
      `with Ansible's own output in ansible.log and events from the ${CALLBACK_NAME} callback`,
      ...(secretNames.length > 0
        ? [`secret extra vars ${secretNames.join(', ')} from ${Object.values(settings.secretExtraVars).map((n) => `$${n}`).join(', ')} (through a named pipe: never stored on disk, never on the command line)`]
        : []),
    ],
    async preflight(signal) {
      missingSecretVars(settings.secretExtraVars);
      // Started as soon as the commit was bound (see early-checks.ts): the same check, already under way.
      if (options.syntaxChecked !== undefined) return options.syntaxChecked;
      const { checkPlaybook } = await import('../ansible/preflight.js');
      await checkPlaybook({ cwd: env.projectDir, playbook: settings.playbook, inventory: settings.inventory, sha: env.sha, signal });
    },
    warmUp(ctx, cancel) {
      // Start ansible-playbook now, held before its first task: Python's and Ansible's start-up (a second
      // or more) happen while the push and the Jenkins build run. `run` releases it; a run that stops
      // before then kills it having run nothing.
      let release!: () => void;
      let stop!: (error: Error) => void;
      const hold = new Promise<void>((resolve, reject) => {
        release = resolve;
        stop = reject;
      });
      hold.catch(() => undefined);
      cancel.addEventListener('abort', () => stop(new Error('the run stopped before the playbook')), { once: true });
      const result = execute(ctx, hold);
      result.catch(() => undefined);
      early = { release, result };
    },
    async run(ctx) {
      if (early === undefined) return execute(ctx);
      ctx.intent('playbook', { playbook: shown(settings.playbook), sha: env.sha });
      early.release();
      return early.result;
    },
  };

  /** Everything the step does; with `hold`, the playbook waits for it (and the intent is journaled at release). */
  async function execute(ctx: StepContext, hold?: Promise<void>): Promise<StepResult> {
    const secretExtraVars = readSecretVars(settings.secretExtraVars, ctx);
    const [{ commitSources, placeIn }, { materializeCommit }, { runPlaybook }] = await Promise.all([
      import('../ansible/sources.js'),
      import('../ansible/commit-tree.js'),
      import('../ansible/run-playbook.js'),
    ]);
    const configured = Array.isArray(settings.inventory) ? settings.inventory : [];
    const sources = await commitSources({ projectDir: env.projectDir, sha: env.sha, playbook: settings.playbook, inventories: configured, signal: ctx.signal });
    const tree = await materializeCommit(sources.top, sources.sha, join(ctx.runDir, 'tree'), ctx.signal);
    const placed = placeIn(sources, tree);
    ctx.progress(`playbook from commit ${short}`);
    for (const path of sources.uncommittedInventories) ctx.warn(`inventory ${path} is not in commit ${short}: read from the working tree`);

    let inventory = placed.inventories;
    if (!Array.isArray(settings.inventory)) {
      ctx.progress(`discovering EC2 instances (${describeInventory(settings.inventory)[0] ?? ''})`);
      const written = await writeInventory(settings.inventory.ec2, ctx.runDir, ctx.signal);
      const left = written.instances - written.hosts;
      ctx.progress(`found ${written.instances} EC2 instance${written.instances === 1 ? '' : 's'}${left > 0 ? ` (${left} without a host name left out, as aws_ec2 does)` : ''}`);
      inventory = written.paths;
    }

    const live = !ctx.verbose; // with --verbose, Ansible's own output already shows every task
    let hostCount = 0;
    if (hold === undefined) ctx.intent('playbook', { playbook: shown(settings.playbook), sha: env.sha });
    let result: Awaited<ReturnType<typeof runPlaybook>>;
    try {
      result = await runPlaybook({
        cwd: placed.cwd,
        playbook: placed.playbook,
        inventory,
        ...(settings.limit !== undefined ? { limit: settings.limit } : {}),
        ...(settings.tags ? { tags: settings.tags } : {}),
        ...(settings.skipTags ? { skipTags: settings.skipTags } : {}),
        extraVars: settings.extraVars,
        secretExtraVars,
        check: settings.check,
        diff: settings.check,
        logFile: join(ctx.runDir, 'ansible.log'),
        logHeader: [`commit ${env.sha} (${env.branch}), written to ${tree}`],
        env: process.env,
        dropEnv: Object.values(settings.secretExtraVars),
        redact: (text: string) => ctx.redact(text),
        signal: ctx.signal,
        ...(hold !== undefined ? { hold } : {}),
        endAtCleanStats: options.followedByRollout,
        onEvent: (event) => {
          if (event.type === 'output') {
            ctx.log(event.line);
            return;
          }
          if (event.type === 'stats') hostCount = Object.keys(event.hosts).length;
          for (const line of describeAnsibleEvent(event, settings.check, live)) ctx.progress(line);
        },
      });
    } catch (error) {
      // A playbook Ansible ran to a verdict failed: journal it. An interruption stays "unknown".
      if (error instanceof AnsibleError) ctx.outcome('playbook', false, { exitCode: error.exitCode });
      throw error;
    }
    ctx.outcome('playbook', true, { hosts: hostCount, ok: result.totals.ok, changed: result.totals.changed });
    for (const warning of result.warnings) ctx.warn(warning);
    for (const problem of result.ignoredFailures) ctx.warn(`ignored failure: ${problem.task} on ${problem.host}${problem.msg ? `: ${problem.msg}` : ''}`);
    return { summary: `${result.tasks} tasks on ${hostCount} host${hostCount === 1 ? '' : 's'}: ${formatTotals(result.totals, settings.check)}` };
  }
}

/** Secret extra vars come from the environment: a missing one stops the run before anything changes. */
function missingSecretVars(names: Record<string, string>): void {
  for (const [name, envName] of Object.entries(names)) {
    if (process.env[envName] !== undefined) continue;
    throw new PreflightError('ansible.secret-missing', `secret extra var ${name} needs environment variable ${envName}, which is not set`, {
      hint: `export ${envName}=...  (it reaches Ansible through a pipe, never on disk or the command line)`,
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

/** PLAY RECAP's numbers: ok and changed always, the rest when not zero; check mode says what would change. */
export function formatTotals(totals: HostStats, check: boolean): string {
  const parts = [`ok=${totals.ok}`, check ? `would change ${totals.changed}` : `changed=${totals.changed}`];
  for (const [key, label] of [['unreachable', 'unreachable'], ['failures', 'failed'], ['skipped', 'skipped'], ['rescued', 'rescued'], ['ignored', 'ignored']] as const) {
    if (totals[key] > 0) parts.push(`${label}=${totals[key]}`);
  }
  return `${parts.join(' ')}${check ? ' (check mode)' : ''}`;
}

/** The task list's lines for one event (none for the per-host ones: the task line sums them up). */
function describeAnsibleEvent(event: AnsibleEvent, check: boolean, live: boolean): string[] {
  switch (event.type) {
    case 'play':
      return live ? [`play: ${event.name}`] : [];
    case 'task': {
      if (!live) return [];
      const h = event.hosts;
      // A task no host finished (the run was interrupted during it) is not a success.
      const mark = h.failed + h.unreachable > 0 ? '✗' : h.ok + h.skipped + h.rescued === 0 ? '·' : '✓';
      return [`${mark} ${event.handler ? 'handler: ' : ''}${event.name}  ${formatCounts(h, check)}`];
    }
    case 'diff':
      return [`${check ? 'would change' : 'changed'}: ${event.task} on ${event.host}\n${event.text.replace(/\n+$/, '')}`];
    case 'no-hosts':
      return [`play ${event.play}: no hosts matched`];
    case 'stats':
      if (!live) return [];
      return Object.entries(event.hosts).map(
        ([host, s]) =>
          `recap ${host}: ok=${s.ok} changed=${s.changed} unreachable=${s.unreachable} failed=${s.failures} skipped=${s.skipped} rescued=${s.rescued} ignored=${s.ignored}`,
      );
    default:
      return [];
  }
}

function formatCounts(counts: HostCounts, check: boolean): string {
  return (['ok', 'changed', 'failed', 'skipped', 'unreachable', 'rescued', 'ignored'] as const)
    .filter((key) => counts[key] > 0 || key === 'ok')
    .map((key) => (key === 'changed' && check ? `would change ${counts[key]}` : `${key}=${counts[key]}`))
    .join(' ');
}
