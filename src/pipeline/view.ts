import type { PipelineEvent } from './events.js';
import type { Step, StepId } from './types.js';

/**
 * What a view is told, once per event: the run's events (also recorded and, with --json, printed)
 * plus `step.live`, a transient glimpse (the console's last line) only a live view shows.
 */
export type ViewEvent = PipelineEvent | { type: 'step.live'; step: StepId; text: string };

/**
 * The one renderer seam. The runner owns the run's lifecycle (reports, events, errors); a view owns
 * how it looks: a live task list on a terminal, timestamped lines in CI and pipes, nothing extra for
 * --json (the events themselves are the output).
 */
export interface RunView {
  /** Runs `each` for the steps in order while showing them; rejects with the first step's failure. */
  run(steps: Step[], each: (step: Step) => Promise<void>): Promise<void>;
  /** Called once per event, after it was recorded. */
  event(event: ViewEvent): void;
  /** Shows one line per subtask under `step` until each title's promise settles (resolves or rejects). */
  subtasks(step: Step, done: Map<string, Promise<void>>): Promise<void>;
}

/** --json: the events on stdout are the whole output. */
export class SilentView implements RunView {
  async run(steps: Step[], each: (step: Step) => Promise<void>): Promise<void> {
    for (const step of steps) await each(step);
  }

  event(_event: ViewEvent): void {}

  async subtasks(_step: Step, done: Map<string, Promise<void>>): Promise<void> {
    await Promise.allSettled(done.values());
  }
}
