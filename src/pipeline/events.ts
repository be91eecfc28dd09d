import type { Link, StepId, StepOutcome } from './types.js';

/**
 * The --json event stream: one object per line on stdout. The shape is stable and documented in
 * the README; the last event is always `result` and carries the exit code.
 */
export type PipelineEvent =
  | { type: 'run.started'; command: string; environment: string; branch: string; sha: string; runDir: string }
  | { type: 'plan'; steps: { id: StepId; title: string; actions: string[] }[]; skipped: { id: StepId; reason: string }[] }
  | { type: 'step.started'; step: StepId; title: string }
  | { type: 'step.progress'; step: StepId; message: string; subtask?: string }
  | { type: 'step.subtask'; step: StepId; subtask: string; outcome: 'success' | 'failed'; message?: string }
  | { type: 'step.log'; step: StepId; text: string }
  | { type: 'step.link'; step: StepId; label: string; url: string }
  | { type: 'step.warning'; step: StepId; message: string }
  | { type: 'step.finished'; step: StepId; outcome: StepOutcome; durationMs: number; summary?: string; links?: Link[] }
  | { type: 'message'; level: 'info' | 'warn'; text: string }
  | { type: 'data'; kind: string; data: unknown }
  | {
      type: 'result';
      exitCode: number;
      outcome: 'success' | 'failed' | 'interrupted';
      error?: { code: string; message: string; hint?: string; details?: string[] };
      steps?: { id: StepId; outcome: StepOutcome; durationMs: number; summary?: string }[];
    };

export type TimedEvent = PipelineEvent & { time: string };

export type EventSink = (event: PipelineEvent) => void;
