/**
 * The iac command line. Kept deliberately light: `--version` and `--help` are answered without loading
 * commander (the help from the text written at build), and each command's module is imported when that
 * command runs, so start-up stays within its budget.
 */
import { readFileSync, statSync } from 'node:fs';
import type * as Commander from 'commander';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The most frequent probe of all: answer it without loading commander.
  process.stdout.write(`${packageVersion()}\n`);
} else if (!(args.length === 1 && (args[0] === '--help' || args[0] === '-h') && answerFromWrittenHelp())) {
  // `up` and `status` begin by asking git about the repository: asked now, answered while the rest loads.
  if ((args[0] === 'up' || args[0] === 'status') && !args.some((a) => a === '-c' || a.startsWith('--config')) && process.env.IAC_CONFIG === undefined) {
    // Awaited: its modules are the command's own, and its git call then runs while commander loads.
    (await import('./commands/support/prefetch-repo.js')).prefetchRepo(process.cwd());
  }
  const { buildProgram, normalizeBooleanTwins, usageFailure, wantsJson } = await import('./program.js');
  const twinProblem = normalizeBooleanTwins(process.env);
  if (twinProblem !== undefined) {
    process.stderr.write(`✗ ${twinProblem}\n  hint: unset it, or set it to 1 or 0\n`);
    usageFailure(twinProblem, wantsJson());
  }
  // commander is CommonJS: required directly, it skips the ESM wrapper and the export scan (a few ms).
  const { createRequire } = await import('node:module');
  const commander = createRequire(import.meta.url)('commander') as typeof Commander;
  await buildProgram(commander, packageVersion()).parseAsync(process.argv);
}

/**
 * `iac --help` as written by the build next to this file (help.txt, see help-text.ts), when it is at
 * least as new as the program it describes and the terminal is wide enough for its 80 columns.
 */
function answerFromWrittenHelp(): boolean {
  // 80: program.ts' HELP_WIDTH (not imported: this path loads nothing else).
  if (process.stdout.isTTY === true && (process.stdout.columns ?? 80) < 80) return false;
  try {
    const help = new URL('./help.txt', import.meta.url);
    if (statSync(help).mtimeMs < statSync(new URL('./program.js', import.meta.url)).mtimeMs) return false;
    process.stdout.write(readFileSync(help, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
