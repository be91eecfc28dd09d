import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BuildError, InterruptedError } from '../../../src/errors.js';
import { Output, type OutputMode } from '../../../src/pipeline/output.js';
import { runPlan } from '../../../src/pipeline/runner.js';
import type { Plan, Step, StepId } from '../../../src/pipeline/types.js';
import { Redactor } from '../../../src/util/redact.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function setup(mode: OutputMode) {
  const stdout = new Capture();
  const stderr = new Capture();
  const redactor = new Redactor();
  const output = new Output({ mode, color: false, redactor, stdout, stderr });
  return { stdout, stderr, output, redactor };
}

function step(id: StepId, run: Step['run']): Step {
  return { id, title: `step ${id}`, describe: () => [], run };
}

function plan(steps: Step[]): Plan {
  return { command: 'up', environment: 'dev', branch: 'develop', sha: 'a'.repeat(40), steps, skipped: [] };
}

describe('pipeline runner', () => {
  it('plain mode prints timestamped lines per step, without repeating an unchanged line', async () => {
    const { stdout, output } = setup('plain');
    const outcome = await runPlan(
      plan([
        step('git', async (ctx) => {
          ctx.progress('pushing');
          ctx.progress('pushing');
          ctx.progress('pushed abc1234');
          return { summary: 'pushed abc1234' };
        }),
      ]),
      { output, signal: new AbortController().signal, runDir: '/tmp', verbose: false },
    );
    expect(outcome.exitCode).toBe(0);
    const lines = stdout.text.trim().split('\n');
    expect(lines.every((l) => /^\[\d\d:\d\d:\d\d\] /.test(l))).toBe(true);
    expect(lines.filter((l) => l.endsWith('git: pushing'))).toHaveLength(1);
    expect(stdout.text).toContain('git: pushed abc1234');
    expect(stdout.text).toMatch(/git: done in \S+ — pushed abc1234/);
  });

  it('a failing step stops the run: later steps are not run and the exit code comes from the error', async () => {
    const { output } = setup('plain');
    let ranRollout = false;
    const outcome = await runPlan(
      plan([
        step('jenkins', async () => {
          throw new BuildError('UNSTABLE', 'Jenkins build shop/deploy #7 is unstable');
        }),
        step('rollout', async () => {
          ranRollout = true;
          return {};
        }),
      ]),
      { output, signal: new AbortController().signal, runDir: '/tmp', verbose: false },
    );
    expect(ranRollout).toBe(false);
    expect(outcome.exitCode).toBe(21);
    expect(outcome.reports.map((r) => r.outcome)).toEqual(['failed', 'not-run']);
  });

  it('json mode emits one parseable event per line, with progress, logs and subtasks', async () => {
    const { stdout, output } = setup('json');
    await runPlan(
      plan([
        step('rollout', async (ctx) => {
          ctx.log('full line');
          await ctx.subtasks(['deployment/web', 'deployment/api'], async ([web, api]) => {
            web?.progress('Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...');
            web?.succeed('successfully rolled out');
            api?.succeed('successfully rolled out');
          });
          return { summary: '2 workloads rolled out' };
        }),
      ]),
      { output, signal: new AbortController().signal, runDir: '/tmp', verbose: false },
    );
    const events = stdout.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'step.started',
      'step.log',
      'step.progress',
      'step.subtask',
      'step.subtask',
      'step.finished',
    ]);
    expect(events[3]).toMatchObject({ subtask: 'deployment/web', step: 'rollout' });
    expect(events[4]).toMatchObject({ type: 'step.subtask', subtask: 'deployment/web', outcome: 'success', message: 'successfully rolled out' });
    expect(events.at(-1)).toMatchObject({ outcome: 'success', summary: '2 workloads rolled out' });
    expect(events.every((e) => typeof e.time === 'string')).toBe(true);
  });

  it('secrets registered by a step are masked in every event and line', async () => {
    for (const mode of ['plain', 'json'] as const) {
      const { stdout, output } = setup(mode);
      await runPlan(
        plan([
          step('jenkins', async (ctx) => {
            ctx.secret('s3cr3t-token-value');
            ctx.progress('calling with s3cr3t-token-value');
            ctx.log('Authorization: s3cr3t-token-value');
            return { summary: 'ok s3cr3t-token-value' };
          }),
        ]),
        { output, signal: new AbortController().signal, runDir: '/tmp', verbose: true },
      );
      expect(stdout.text).not.toContain('s3cr3t-token-value');
      expect(stdout.text).toContain('***');
    }
  });

  it('an interrupted run is exit 130 and reports what keeps running remotely', async () => {
    const { output } = setup('plain');
    const controller = new AbortController();
    const outcome = await runPlan(
      plan([
        {
          ...step('jenkins', async () => {
            controller.abort();
            throw new InterruptedError();
          }),
          onInterrupt: () => 'Jenkins build #5 keeps running: http://ci/job/x/5/',
        },
      ]),
      { output, signal: controller.signal, runDir: '/tmp', verbose: false },
    );
    expect(outcome.exitCode).toBe(130);
    expect(outcome.reports[0]?.outcome).toBe('interrupted');
    expect(outcome.stillRunning).toEqual(['Jenkins build #5 keeps running: http://ci/job/x/5/']);
  });
});
