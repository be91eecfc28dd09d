import { exitCodeOf, InterruptedError, isIacError, type ExitCodeValue } from '../errors.js';
import { sanitizeTerminalText } from '../util/terminal-text.js';
import type { NewRecord } from '../journal/journal.js';
import type { Output } from './output.js';
import { PlainRenderer } from './plain-renderer.js';
import type { Plan, Step, StepContext, StepReport, SubtaskHandle } from './types.js';
import { SilentView, type RunView, type ViewEvent } from './view.js';

export interface RunnerOptions {
  output: Output;
  signal: AbortSignal;
  runDir: string;
  verbose: boolean;
  /** Defaults to the view for the output's mode (live list, plain lines, JSON only). */
  view?: RunView;
  /** The run's journal: mutations (intent, outcome) and each step's end, written durably. */
  journal?: (record: NewRecord) => void;
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

/** The view for the output's mode; listr2 (the live list) loads only for a terminal. */
export async function viewFor(output: Output, verbose: boolean): Promise<RunView> {
  if (output.mode === 'tty') return new (await import('./tty-view.js')).TtyView(output, verbose);
  if (output.mode === 'plain') return new PlainRenderer(output, verbose);
  return new SilentView();
}

/**
 * Runs a plan's steps in order: the first failing step stops the run. Every step reports through
 * its StepContext; each report becomes one event, recorded (events.ndjson, --json) and shown by the
 * view — one seam, one call per event.
 */
export async function runPlan(plan: Plan, options: RunnerOptions): Promise<RunOutcome> {
  const { output } = options;
  const view = options.view ?? (await viewFor(output, options.verbose));
  // Steps relay what servers say: no control sequence of theirs reaches a terminal or a record.
  const color = output.chalk.level > 0;
  const dispatch = (raw: ViewEvent): void => {
    const event = cleanText(raw, color);
    if (event.type !== 'step.live') output.emit(event);
    view.event(event);
  };
  const reports: StepReport[] = plan.steps.map((step) => ({ id: step.id, title: step.title, outcome: 'not-run', durationMs: 0, links: [], warnings: [] }));
  const started = new Set<Step>();

  // A step that starts early (a held playbook) does so as the step before it starts (the first one at
  // once): it hides behind that step (the Jenkins build) without competing with the ones before (the
  // push). It reports into a queue until it starts for real.
  const warming = new Map<Step, { queue: ViewEvent[]; cancel: AbortController }>();
  const warmUp = (step: Step | undefined): void => {
    if (!step?.warmUp || warming.has(step)) return;
    const slot = { queue: [] as ViewEvent[], cancel: new AbortController() };
    warming.set(step, slot);
    const early = (event: ViewEvent): void => void (warming.has(step) ? slot.queue.push(event) : dispatch(event));
    step.warmUp(stepContext(step, reports[plan.steps.indexOf(step)] as StepReport, options, early, view), slot.cancel.signal);
  };
  warmUp(plan.steps[0]);

  const runStep = async (step: Step): Promise<void> => {
    const report = reports[plan.steps.indexOf(step)] as StepReport;
    started.add(step);
    const begin = performance.now();
    dispatch({ type: 'step.started', step: step.id, title: step.title });
    warmUp(plan.steps[plan.steps.indexOf(step) + 1]);
    const warmed = warming.get(step);
    warming.delete(step);
    warmed?.queue.forEach(dispatch);
    try {
      if (options.signal.aborted) throw new InterruptedError();
      await plan.guard?.beforeStep(step.id, options.signal);
      if (step === plan.steps.at(-1)) plan.guard?.lastStepStarted?.(step.id, options.signal);
      const result = await step.run(stepContext(step, report, options, dispatch, view));
      report.outcome = 'success';
      if (result.summary !== undefined) report.summary = result.summary;
    } catch (error) {
      report.outcome = error instanceof InterruptedError || options.signal.aborted ? 'interrupted' : 'failed';
      report.summary = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      report.durationMs = performance.now() - begin;
      options.journal?.({
        type: 'step',
        step: step.id,
        outcome: report.outcome,
        ...(report.summary !== undefined ? { summary: report.summary } : {}),
        durationMs: Math.round(report.durationMs),
      });
      dispatch({
        type: 'step.finished',
        step: step.id,
        outcome: report.outcome,
        durationMs: Math.round(report.durationMs),
        ...(report.summary !== undefined ? { summary: report.summary } : {}),
        ...(report.links.length > 0 ? { links: report.links } : {}),
      });
    }
  };

  let error: unknown;
  let warnings: string[] = [];
  dispatch({ type: 'run.started', command: plan.command, environment: plan.environment, branch: plan.branch, sha: plan.sha, runDir: options.runDir });
  try {
    await view.run(plan.steps, runStep);
    if (plan.guard) warnings = await plan.guard.afterSteps(options.signal);
  } catch (caught) {
    error = options.signal.aborted && !isIacError(caught) ? new InterruptedError() : caught;
  }
  // Steps warmed up for a run that stopped before them: they never start.
  for (const slot of warming.values()) slot.cancel.abort();
  const stillRunning = error instanceof InterruptedError
    ? (await Promise.all([...started].map((step) => step.onInterrupt?.()))).filter((line): line is string => !!line)
    : [];
  return { exitCode: error === undefined ? 0 : exitCodeOf(error), reports, error, stillRunning, warnings };
}

/** The event with its free text sanitized (colour kept only for a colour terminal). */
function cleanText(event: ViewEvent, color: boolean): ViewEvent {
  const clean = (text: string): string => sanitizeTerminalText(text, { color });
  switch (event.type) {
    case 'step.progress':
    case 'step.warning':
      return { ...event, message: clean(event.message) };
    case 'step.subtask':
      return event.message === undefined ? event : { ...event, message: clean(event.message) };
    case 'step.log':
    case 'step.live':
      return { ...event, text: clean(event.text) };
    case 'step.finished':
      return event.summary === undefined ? event : { ...event, summary: clean(event.summary) };
    default:
      return event;
  }
}

function stepContext(step: Step, report: StepReport, options: RunnerOptions, dispatch: (event: ViewEvent) => void, view: RunView): StepContext {
  const { output } = options;
  return {
    signal: options.signal,
    runDir: options.runDir,
    verbose: options.verbose,
    progress: (message) => dispatch({ type: 'step.progress', step: step.id, message }),
    liveLine: (text) => dispatch({ type: 'step.live', step: step.id, text }),
    log: (text) => dispatch({ type: 'step.log', step: step.id, text }),
    link(label, url) {
      report.links.push({ label, url });
      dispatch({ type: 'step.link', step: step.id, label, url });
    },
    warn(message) {
      report.warnings.push(message);
      dispatch({ type: 'step.warning', step: step.id, message });
    },
    secret: (value) => output.redactor.add(value),
    redact: (text) => output.redactor.redact(text),
    intent: (action, detail) => options.journal?.({ type: 'intent', action, ...(detail ? { detail } : {}) }),
    outcome: (action, ok, detail) => options.journal?.({ type: 'outcome', action, ok, ...(detail ? { detail } : {}) }),
    async subtasks(titles, body) {
      const handles = titles.map((title) => new Subtask(title, step, dispatch));
      const bodyDone = body(handles).finally(() => handles.forEach((h) => h.settleIfPending()));
      const [, bodyResult] = await Promise.allSettled([view.subtasks(step, new Map(handles.map((h) => [h.title, h.done]))), bodyDone]);
      if (bodyResult.status === 'rejected') throw bodyResult.reason;
    },
  };
}

/** A subtask whose completion is driven from outside (a watch event); each change is one event. */
class Subtask implements SubtaskHandle {
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private settled = false;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(
    readonly title: string,
    private readonly step: Step,
    private readonly dispatch: (event: ViewEvent) => void,
  ) {
    this.done.catch(() => undefined);
  }

  progress(message: string): void {
    if (!this.settled) this.dispatch({ type: 'step.progress', step: this.step.id, subtask: this.title, message });
  }

  succeed(message?: string): void {
    if (this.settled) return;
    this.settled = true;
    this.dispatch({ type: 'step.subtask', step: this.step.id, subtask: this.title, outcome: 'success', ...(message !== undefined ? { message } : {}) });
    this.resolve();
  }

  fail(message: string): void {
    if (this.settled) return;
    this.settled = true;
    this.dispatch({ type: 'step.subtask', step: this.step.id, subtask: this.title, outcome: 'failed', message });
    this.reject(new Error(message));
  }

  settleIfPending(): void {
    if (!this.settled) this.fail('stopped');
  }
}
