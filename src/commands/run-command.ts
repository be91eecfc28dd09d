import { createInterface } from 'node:readline/promises';
import { exitCodeOf, InterruptedError, isIacError } from '../errors.js';
import { colorEnabled, Output, outputMode } from '../pipeline/output.js';
import type { StepReport } from '../pipeline/types.js';
import { globalRedactor, SECRET_NAME } from '../util/redact.js';
import type { CommandContext, CommandOptions } from './context.js';
import { COMMANDS, type CommandName } from './registry.js';


/**
 * The top level of every command: builds the output, wires Ctrl-C to an AbortSignal, runs the
 * command and turns whatever it threw into one message, one hint and the documented exit code.
 */
export async function runCommand(name: CommandName, options: CommandOptions): Promise<number> {
  const env = process.env;
  ignoreClosedPipes();
  for (const [key, value] of Object.entries(env)) if (SECRET_NAME.test(key)) globalRedactor.add(value);
  const isTTY = process.stdout.isTTY === true;
  const output = new Output({
    mode: outputMode({ json: options.json === true, env, isTTY }),
    color: colorEnabled({ noColor: options.color === false, env, isTTY }),
    redactor: globalRedactor,
    verbose: options.verbose === true,
  });

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    if (!output.json) process.stderr.write('\nstopping… (press Ctrl-C again to force)\n');
    controller.abort(new InterruptedError());
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Closing the terminal is a stop like Ctrl-C: the playbook and the run directory are cleaned up.
  process.on('SIGHUP', onSignal);

  let steps: StepReport[] | undefined;
  const ctx: CommandContext = {
    cwd: process.cwd(),
    env,
    options,
    output,
    signal: controller.signal,
    interactive: process.stdin.isTTY === true && isTTY,
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `, { signal: controller.signal });
        return /^y(es)?$/i.test(answer.trim());
      } catch {
        throw new InterruptedError('no answer: interrupted');
      } finally {
        rl.close();
      }
    },
    reportSteps: (reports) => {
      steps = reports;
    },
  };

  let exitCode: number;
  let failure: unknown;
  try {
    const module = await COMMANDS[name]();
    exitCode = await module.default(ctx);
  } catch (error) {
    failure = controller.signal.aborted && !isIacError(error) ? new InterruptedError() : error;
    exitCode = exitCodeOf(failure);
    if (!output.json) output.error(failure);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
  // Always emitted: in --json mode it is the last line on stdout; in every mode it ends the run's events.ndjson.
  output.emit({
    type: 'result',
    exitCode,
    outcome: exitCode === 0 ? 'success' : exitCode === 130 ? 'interrupted' : 'failed',
    ...(failure !== undefined ? { error: errorJson(failure) } : {}),
    ...(steps ? { steps: steps.map((r) => ({ id: r.id, outcome: r.outcome, durationMs: Math.round(r.durationMs), ...(r.summary ? { summary: r.summary } : {}) })) } : {}),
  });
  return exitCode;
}

/**
 * `iac up | head -3`: once the reader is gone, writes fail with EPIPE. That must never stop a deploy
 * halfway: output to a closed pipe is dropped, the run goes on, its record and exit code are complete.
 */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') > 0) continue;
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
      throw error;
    });
  }
}

function errorJson(error: unknown): { code: string; message: string; hint?: string; details?: string[] } {
  if (isIacError(error)) {
    return {
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      ...(error.details.length > 0 ? { details: error.details } : {}),
    };
  }
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
