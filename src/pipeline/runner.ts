import { Listr, type ListrTask } from 'listr2';
import { exitCodeOf, InterruptedError, isIacError, type ExitCodeValue } from '../errors.js';
import type { Output } from './output.js';
import { PlainRenderer } from './plain-renderer.js';
import type { Plan, Step, StepContext, StepReport, SubtaskHandle } from './types.js';

export interface RunnerOptions {
  output: Output;
  signal: AbortSignal;
  runDir: string;
  verbose: boolean;
}

export interface RunOutcome {
  exitCode: ExitCodeValue;
  reports: StepReport[];
  error?: unknown;
  /** Lines saying what kept running remotely after an interruption. */
  stillRunning: string[];
  /** About the run as a whole (e.g. the local branch moved while it ran). */
  warnings: string[];
}

/** listr2's task wrapper as handed to a task function. */
type AnyTask = Parameters<ListrTask['task']>[1];

/**
 * Runs a plan's steps in order on listr2. On a TTY listr2's live renderer draws the task list;
 * otherwise listr2 runs silently and the plain renderer (timestamped lines) or the --json event
 * stream shows the same events. The first failing step stops the run.
 */
export async function runPlan(plan: Plan, options: RunnerOptions): Promise<RunOutcome> {
  const { output } = options;
  const plain = output.mode === 'plain' ? new PlainRenderer(output) : undefined;
  const reports: StepReport[] = plan.steps.map((step) => ({
    id: step.id,
    title: step.title,
    outcome: 'not-run',
    durationMs: 0,
    links: [],
    warnings: [],
  }));
  const started = new Set<Step>();

  const tasks: ListrTask[] = plan.steps.map((step, index) => ({
    title: step.title,
    // --verbose on a TTY: keep the whole console / task stream under the task, not just its last line.
    ...(options.verbose ? { rendererOptions: { outputBar: Infinity, persistentOutput: true } } : {}),
    task: async (_ctx: unknown, task: AnyTask): Promise<void> => {
      const report = reports[index] as StepReport;
      started.add(step);
      const begin = performance.now();
      output.emit({ type: 'step.started', step: step.id, title: step.title });
      plain?.stepStarted(step);
      try {
        if (options.signal.aborted) throw new InterruptedError();
        await plan.guard?.beforeStep(step.id, options.signal);
        const result = await step.run(stepContext(step, task, report, options, plain));
        report.outcome = 'success';
        if (result.summary !== undefined) {
          report.summary = result.summary;
          if (output.mode === 'tty') task.title = `${step.title}: ${output.redactor.redact(result.summary)}`;
        }
      } catch (error) {
        report.outcome = error instanceof InterruptedError || options.signal.aborted ? 'interrupted' : 'failed';
        report.summary = error instanceof Error ? error.message : String(error);
        throw error;
      } finally {
        report.durationMs = performance.now() - begin;
        output.emit({
          type: 'step.finished',
          step: step.id,
          outcome: report.outcome,
          durationMs: Math.round(report.durationMs),
          ...(report.summary !== undefined ? { summary: report.summary } : {}),
          ...(report.links.length > 0 ? { links: report.links } : {}),
        });
        plain?.stepFinished(step, report);
      }
    },
  }));

  const listr = new Listr(tasks, {
    renderer: output.mode === 'tty' ? 'default' : 'silent',
    fallbackRenderer: 'silent',
    exitOnError: true,
    registerSignalListeners: false,
    collectErrors: false,
    rendererOptions: { collapseSubtasks: false, collapseErrors: false, showErrorMessage: true },
  });

  let error: unknown;
  let warnings: string[] = [];
  try {
    await listr.run();
    if (plan.guard) warnings = await plan.guard.afterSteps(options.signal);
  } catch (caught) {
    error = options.signal.aborted && !isIacError(caught) ? new InterruptedError() : caught;
  }
  const stillRunning = error instanceof InterruptedError
    ? [...started].map((step) => step.onInterrupt?.()).filter((line): line is string => !!line)
    : [];
  return { exitCode: error === undefined ? 0 : exitCodeOf(error), reports, error, stillRunning, warnings };
}

function stepContext(step: Step, task: AnyTask, report: StepReport, options: RunnerOptions, plain: PlainRenderer | undefined): StepContext {
  const { output } = options;
  const tty = output.mode === 'tty';
  return {
    signal: options.signal,
    runDir: options.runDir,
    verbose: options.verbose,
    progress(message) {
      output.emit({ type: 'step.progress', step: step.id, message });
      if (tty) task.output = output.redactor.redact(message);
      plain?.progress(step, message);
    },
    liveLine(text) {
      if (tty && !options.verbose) task.output = output.redactor.redact(text);
    },
    log(text) {
      output.emit({ type: 'step.log', step: step.id, text });
      if (!options.verbose) return;
      if (tty) task.output = output.redactor.redact(text);
      plain?.log(step, text);
    },
    link(label, url) {
      report.links.push({ label, url });
      output.emit({ type: 'step.link', step: step.id, label, url });
      plain?.progress(step, `${label}: ${url}`);
    },
    warn(message) {
      report.warnings.push(message);
      output.emit({ type: 'step.warning', step: step.id, message });
      if (tty) task.output = output.redactor.redact(`⚠ ${message}`);
      plain?.warn(step, message);
    },
    secret(value) {
      output.redactor.add(value);
    },
    async subtasks(titles, body) {
      const handles = titles.map((title) => new Subtask(title, (message) => {
        output.emit({ type: 'step.progress', step: step.id, subtask: title, message });
        plain?.progress(step, message, title);
      }));
      if (!tty) return body(handles);
      const sub = task.newListr(
        handles.map((handle) => ({ title: handle.title, task: (_: unknown, subTask: AnyTask) => handle.attach(subTask, output) })),
        { concurrent: true, exitOnError: false },
      );
      const bodyDone = body(handles).finally(() => handles.forEach((h) => h.settleIfPending()));
      const [, bodyResult] = await Promise.allSettled([sub.run(), bodyDone]);
      if (bodyResult.status === 'rejected') throw bodyResult.reason;
    },
  };
}

/** A subtask whose completion is driven from outside (a watch event), rendered by listr2 on a TTY. */
class Subtask implements SubtaskHandle {
  private task: AnyTask | undefined;
  private redact: (text: string) => string = (text) => text;
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private settled = false;
  private readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(
    readonly title: string,
    private readonly onProgress: (message: string) => void,
  ) {
    this.done.catch(() => undefined);
  }

  attach(task: AnyTask, output: Output): Promise<void> {
    this.task = task;
    this.redact = (text) => output.redactor.redact(text);
    return this.done;
  }

  progress(message: string): void {
    this.onProgress(message);
    if (this.task) this.task.output = this.redact(message);
  }

  succeed(message?: string): void {
    if (message !== undefined) {
      this.onProgress(message);
      if (this.task) this.task.title = `${this.title}: ${this.redact(message)}`;
    }
    this.settled = true;
    this.resolve();
  }

  fail(message: string): void {
    this.onProgress(message);
    this.settled = true;
    this.reject(new Error(this.redact(message)));
  }

  settleIfPending(): void {
    if (!this.settled) this.fail('stopped');
  }
}
