/**
 * The commander program: every command, flag and help text. Each command's module is imported only
 * when that command runs, so building the program costs commander's load and nothing more.
 */
import type { Command, Option as OptionClass } from 'commander';
import type * as Commander from 'commander';
import type { CommandName } from './commands/registry.js';

/** Flags whose environment twin is a boolean: parsed strictly, since commander treats any value as "on". */
const BOOLEAN_TWINS = ['IAC_JSON', 'IAC_VERBOSE', 'IAC_YES', 'IAC_DRY_RUN'] as const;

/**
 * `IAC_YES=false` must mean no. On: 1/true/yes/on; off: 0/false/no/off/"" (removed, so commander
 * sees nothing); anything else is a usage error, returned as its message.
 */
export function normalizeBooleanTwins(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of BOOLEAN_TWINS) {
    const value = env[name];
    if (value === undefined) continue;
    const word = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(word)) env[name] = '1';
    else if (['0', 'false', 'no', 'off', ''].includes(word)) delete env[name];
    else return `${name}=${JSON.stringify(value).slice(1, -1).slice(0, 40)}: expected 1, true or yes (on) or 0, false, no or empty (off)`;
  }
  return undefined;
}

/** `--json` promises a `result` event last, even for a usage error commander reports itself. */
export function usageFailure(message: string, json: boolean): never {
  if (json) {
    const event = { type: 'result', exitCode: 2, outcome: 'failed', error: { code: 'usage', message }, time: new Date().toISOString() };
    process.stdout.write(`${JSON.stringify(event)}\n`);
  }
  process.exit(2);
}


async function dispatch(name: CommandName, args: Record<string, unknown>, command: Command): Promise<void> {
  const { runCommand } = await import('./commands/run-command.js');
  process.exitCode = await runCommand(name, { ...command.optsWithGlobals(), ...args });
  const { settleBackground } = await import('./util/background.js');
  await settleBackground(5_000);
  // The command is done: nothing it started (a keep-alive socket, a watch) may keep iac running.
  setTimeout(() => process.exit(), 250).unref();
}

const pipelineOptions = (command: Command, Option: typeof OptionClass): Command =>
  command
    .addOption(new Option('--only <steps>', 'run only these steps (git,jenkins,ansible,rollout)').env('IAC_ONLY'))
    .addOption(new Option('--skip <steps>', 'skip these steps').env('IAC_SKIP'))
    .addOption(new Option('--timeout <duration>', 'rollout deadline, e.g. 10m (overrides iac.yaml)').env('IAC_TIMEOUT'))
    .addOption(new Option('--cancel-on-interrupt', 'abort the Jenkins build when you press Ctrl-C'))
    .addOption(new Option('--wait-lock <duration>', 'wait this long for another run deploying the same environment (default: refuse at once)').env('IAC_WAIT_LOCK'));

/** The program; `version` is iac's (cli.ts reads it, so `iac --version` needs no other module). */
export function buildProgram({ Command, Option }: typeof Commander, version: string): Command {
  const program = new Command('iac')
    .description('From commit to running cluster: git push → Jenkins → Ansible → Kubernetes rollout, in one command.')
    .version(version, '-V, --version')
    .addOption(new Option('-c, --config <file>', 'path to iac.yaml (default: found by walking up from the cwd)').env('IAC_CONFIG'))
    .addOption(new Option('--json', 'newline-delimited JSON events on stdout').env('IAC_JSON'))
    .addOption(new Option('-v, --verbose', 'stream the full Jenkins console and Ansible output').env('IAC_VERBOSE'))
    .addOption(new Option('-y, --yes', 'answer yes to confirmations (required in non-interactive promotes)').env('IAC_YES'))
    .addOption(new Option('-n, --dry-run', 'print the resolved plan and change nothing').env('IAC_DRY_RUN'))
    .option('--no-color', 'disable colours (NO_COLOR is respected too)')
    // Wrapped at 80 columns at most, whatever the terminal: the same text as the one written at build
    // (help.txt) that answers `iac --help` without loading commander.
    .configureHelp({ helpWidth: helpWidth() })
    .showHelpAfterError('(run `iac --help` for usage)')
    // Usage errors (unknown command or flag, missing argument) are exit 2, like every other usage error.
    .exitOverride((error) => (error.exitCode === 0 ? process.exit(0) : usageFailure(error.message.replace(/^error: /, ''), wantsJson())))
    .addHelpText(
      'after',
      `
Examples:
  $ iac demo                      try the whole pipeline against a local sandbox
  $ iac init                      write iac.yaml for this repository
  $ iac doctor                    check every tool, credential and endpoint iac.yaml needs
  $ iac up --dry-run              show exactly what \`iac up\` would do
  $ iac up                        deploy the checked-out branch's environment
  $ iac up dev --only git,jenkins push and build only
  $ iac promote develop main      move tested work to the next environment and deploy it
  $ iac status --watch            the whole delivery path on one screen
  $ iac history prod              who deployed what, when, and how it went
  $ iac rollback prod             redeploy prod's previous good commit
  $ iac inventory dev --list      Ansible dynamic inventory from EC2 tags

Exit codes: 0 ok · 1 bug · 2 usage/config · 3 preflight · 4 unreachable/credentials · 10 git ·
20/21/22 Jenkins FAILURE/UNSTABLE/ABORTED · 23 Jenkins built another commit · 30/31 Ansible task failed/host unreachable ·
40/41 rollout failed/deadline · 130 interrupted`,
    );

  pipelineOptions(
    program
      .command('up')
      .description('push, build on Jenkins, run the Ansible playbook and wait for every workload to roll out')
      .argument('[env]', 'environment (default: the one whose branch is checked out)')
      .option('--rebuild', 'trigger a new Jenkins build even when an unfinished earlier run of this commit has a successful one'),
    Option,
  ).action((env: string | undefined, _opts: unknown, command: Command) => dispatch('up', { env }, command));

  pipelineOptions(
    program
      .command('promote')
      .description('merge <from> into <to> (fast-forward by default), push, then deploy <to>')
      .argument('<from>', 'source environment or branch, e.g. develop')
      .argument('<to>', 'target environment or branch, e.g. main')
      .option('--merge', 'create a merge commit when the branches have diverged')
      .option('--skip-gate', 'promote even without a successful Jenkins build of <from>')
      .option('--no-deploy', 'stop after pushing <to>'),
    Option,
  ).action((from: string, to: string, _opts: unknown, command: Command) => dispatch('promote', { from, to }, command));

  pipelineOptions(
    program
      .command('rollback')
      .description("redeploy the environment's previous successful commit (Jenkins, Ansible, rollout) without moving any branch")
      .argument('[env]', 'environment (default: the one whose branch is checked out)')
      .option('--to <sha|run>', 'roll back to this commit or the commit of this run (see iac history)'),
    Option,
  ).action((env: string | undefined, _opts: unknown, command: Command) => dispatch('rollback', { env }, command));

  program
    .command('unlock')
    .description("break an environment's deploy lease held by a run that died (asks first)")
    .argument('<env>', 'environment')
    .action((env: string, _opts: unknown, command: Command) => dispatch('unlock', { env }, command));

  program
    .command('history')
    .description('every deploy, newest first: when, who, commit, Jenkins build, Ansible recap, rollout, outcome')
    .argument('[env]', 'one environment (default: all)')
    .option('--limit <n>', 'show at most this many runs (default 20)')
    .action((env: string | undefined, _opts: unknown, command: Command) => dispatch('history', { env }, command));

  program
    .command('status')
    .description('git divergence, last builds, workload health and running revisions, EC2 instances')
    .argument('[env]', 'one environment (default: all)')
    .option('-w, --watch', 'refresh in place as things change')
    .action((env: string | undefined, _opts: unknown, command: Command) => dispatch('status', { env }, command));

  program
    .command('init')
    .description('write iac.yaml for this repository (from its remote and branches)')
    .option('-f, --force', 'overwrite an existing iac.yaml')
    .option('--with-examples', 'also write a Jenkinsfile, an Ansible playbook and Kubernetes manifests')
    .action((_opts: unknown, command: Command) => dispatch('init', {}, command));

  program
    .command('doctor')
    .description('check every tool, credential and endpoint the configuration needs')
    .argument('[env]', 'one environment (default: all)')
    .addOption(new Option('--check-timeout <duration>', 'deadline of each check (default 10s)').env('IAC_DOCTOR_TIMEOUT'))
    .action((env: string | undefined, _opts: unknown, command: Command) => dispatch('doctor', { env }, command));

  program
    .command('inventory')
    .description('Ansible dynamic inventory from EC2 instances found by tags (usable as -i)')
    .argument('[env]', 'environment whose ansible.inventory.ec2 (or aws) section selects the instances')
    .option('--list', 'print the whole inventory (default)')
    .addOption(new Option('--host <name>', 'print one host\'s variables').conflicts('list'))
    .action((env: string | undefined, _opts: unknown, command: Command) => dispatch('inventory', { env }, command));

  program
    .command('demo')
    .description('run the whole pipeline against a local sandbox (Jenkins, Kubernetes, EC2) in a scratch repo')
    .option('--keep', 'keep the scratch project and print how to use it')
    .action((_opts: unknown, command: Command) => dispatch('demo', {}, command));

  program
    .command('schema')
    .description('print the JSON Schema of iac.yaml (for editor validation)')
    .action((_opts: unknown, command: Command) => dispatch('schema', {}, command));

  return program;
}

export function wantsJson(): boolean {
  return process.env.IAC_JSON === '1' || process.argv.slice(2).includes('--json');
}

/** The widest help iac prints; a narrower terminal gets its own width. */
export const HELP_WIDTH = 80;

export function helpWidth(stdout: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stdout.isTTY === true && stdout.columns !== undefined && stdout.columns > 0 ? Math.min(stdout.columns, HELP_WIDTH) : HELP_WIDTH;
}

/** `iac --help` exactly as commander prints it, captured instead of written. */
export function helpText(commander: typeof Commander, version: string): string {
  let text = '';
  const program = buildProgram(commander, version).configureOutput({ writeOut: (chunk) => (text += chunk) });
  program.configureHelp({ helpWidth: HELP_WIDTH });
  program.outputHelp();
  return text;
}
