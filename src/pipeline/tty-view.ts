import { getRendererClass, Listr, ListrTaskEventType, PRESET_TIMER, type ListrTask } from 'listr2';
import type { Output } from './output.js';
import type { Step, StepId } from './types.js';
import type { RunView, ViewEvent } from './view.js';

/** listr2's task wrapper as handed to a task function. */
type TaskHandle = Parameters<ListrTask['task']>[1];

/**
 * The live task list on a terminal, drawn by listr2 in place. Subtasks (one per workload) belong to
 * their step's task and are drawn by the same renderer — never by a second one printing frames of
 * its own below the list.
 */
export class TtyView implements RunView {
  private readonly tasks = new Map<StepId, { handle: TaskHandle; title: string }>();
  private readonly subtaskHandles = new Map<string, TaskHandle>();
  private readonly pending = new Map<StepId, { total: number; left: number }>();

  constructor(
    private readonly output: Output,
    private readonly verbose: boolean,
  ) {}

  async run(steps: Step[], each: (step: Step) => Promise<void>): Promise<void> {
    const list = new Listr(
      steps.map((step) => ({
        title: step.title,
        // --verbose: keep the whole console / task stream under the task, not just its last line.
        ...(this.verbose ? { rendererOptions: { outputBar: Infinity, persistentOutput: true } } : {}),
        task: async (_ctx: unknown, handle: TaskHandle): Promise<void> => {
          this.tasks.set(step.id, { handle, title: step.title });
          await each(step);
        },
      })),
      {
        renderer: 'default',
        exitOnError: true,
        registerSignalListeners: false,
        collectErrors: false,
        rendererOptions: { collapseSubtasks: false, collapseErrors: false, showErrorMessage: true, timer: PRESET_TIMER },
      },
    );
    await list.run();
  }

  event(event: ViewEvent): void {
    const redact = (text: string): string => this.output.redactor.redact(text);
    if (!('step' in event)) return;
    const task = this.tasks.get(event.step);
    if (task === undefined) return;
    switch (event.type) {
      case 'step.progress': {
        const sub = event.subtask !== undefined ? this.subtaskHandles.get(`${event.step}/${event.subtask}`) : undefined;
        if (sub) sub.output = redact(event.message);
        else if (event.subtask === undefined) task.handle.output = redact(event.message);
        break;
      }
      case 'step.subtask': {
        const sub = this.subtaskHandles.get(`${event.step}/${event.subtask}`);
        if (sub && event.message !== undefined) sub.title = `${event.subtask}: ${redact(event.message)}`;
        const counts = this.pending.get(event.step);
        if (counts) {
          counts.left -= 1;
          if (counts.left > 0) task.handle.output = `[${counts.left}/${counts.total} workloads still pending]`;
        }
        break;
      }
      case 'step.live':
        if (!this.verbose) task.handle.output = redact(event.text);
        break;
      case 'step.log':
        if (this.verbose) task.handle.output = redact(event.text);
        break;
      case 'step.warning':
        task.handle.output = redact(`⚠ ${event.message}`);
        break;
      case 'step.finished':
        if (event.outcome === 'success' && event.summary !== undefined) task.handle.title = `${task.title}: ${redact(event.summary)}`;
        break;
      default:
        break;
    }
  }

  async subtasks(step: Step, done: Map<string, Promise<void>>): Promise<void> {
    const parent = this.tasks.get(step.id)?.handle;
    if (parent === undefined) {
      await Promise.allSettled(done.values());
      return;
    }
    this.pending.set(step.id, { total: done.size, left: done.size });
    const sub = parent.newListr(
      [...done.entries()].map(([title, promise]) => ({
        title,
        task: (_ctx: unknown, handle: TaskHandle) => {
          this.subtaskHandles.set(`${step.id}/${title}`, handle);
          return promise;
        },
      })),
      { concurrent: true, exitOnError: false },
    );
    // What listr2 does for a task that returns its subtasks: the parent's renderer draws them, the
    // sub-list itself renders nothing (a second renderer would print frames below the list).
    sub.rendererClass = getRendererClass('silent');
    parent.task.subtasks = sub.tasks;
    parent.task.emit(ListrTaskEventType.SUBTASK, sub.tasks);
    await sub.run();
  }
}
