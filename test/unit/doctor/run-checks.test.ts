import { describe, expect, it } from 'vitest';
import { PreflightError } from '../../../src/errors.js';
import { runChecks } from '../../../src/doctor/run-checks.js';
import { NotChecked, fail, pass, warn, type CheckOutcome, type CheckSpec } from '../../../src/doctor/types.js';

const spec = (id: string, run: (signal: AbortSignal) => Promise<CheckOutcome>, extra: Partial<CheckSpec> = {}): CheckSpec => ({ id, label: id, run, ...extra });
const options = { signal: new AbortController().signal, timeoutMs: 2000 };

describe('runChecks', () => {
  it('runs checks at the same time: the first one can wait for something only the second one does', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const results = await runChecks(
      [
        spec('waits', async () => {
          await released;
          return pass('released');
        }),
        spec('releases', async () => {
          release();
          return pass('done');
        }),
      ],
      options,
    );
    expect(results.map((r) => [r.id, r.severity, r.message])).toEqual([
      ['waits', 'ok', 'released'],
      ['releases', 'ok', 'done'],
    ]);
  });

  it('gives each check its own deadline and aborts its signal; the others are unaffected', async () => {
    let aborted = false;
    const hung = spec(
      'hung',
      (signal) =>
        new Promise<CheckOutcome>(() => {
          signal.addEventListener('abort', () => (aborted = true));
        }),
      { hint: 'check that the server is up' },
    );
    const [slow, quick] = await runChecks([hung, spec('quick', async () => pass('fine'))], { ...options, timeoutMs: 50 });
    expect(slow).toMatchObject({ ok: false, severity: 'error', message: 'no answer within 50ms', fix: 'check that the server is up' });
    expect(quick).toMatchObject({ ok: true, severity: 'ok' });
    expect(aborted).toBe(true);
  });

  it('skips a check whose prerequisite failed or was skipped, and runs it after a warning', async () => {
    const broken = spec('broken', async () => fail('no', 'do this'));
    const cautious = spec('cautious', async () => warn('careful'));
    const afterBroken = spec('after-broken', async () => pass('never'), { requires: [broken] });
    const afterSkipped = spec('after-skipped', async () => pass('never'), { requires: [afterBroken] });
    const afterWarning = spec('after-warning', async () => pass('ran'), { requires: [cautious] });
    const results = await runChecks([broken, cautious, afterBroken, afterSkipped, afterWarning], options);
    expect(results.map((r) => [r.id, r.ok, r.severity, r.message])).toEqual([
      ['broken', false, 'error', 'no'],
      ['cautious', true, 'warning', 'careful'],
      ['after-broken', false, 'skipped', 'not checked: broken failed'],
      ['after-skipped', false, 'skipped', 'not checked: after-broken was not checked'],
      ['after-warning', true, 'ok', 'ran'],
    ]);
    expect(results[0]?.fix).toBe('do this');
  });

  it('runs a prerequisite shared by several checks once', async () => {
    let runs = 0;
    const shared = spec('shared', async () => {
      runs += 1;
      return pass('once');
    });
    await runChecks([spec('a', async () => pass('a'), { requires: [shared] }), spec('b', async () => pass('b'), { requires: [shared] }), shared], options);
    expect(runs).toBe(1);
  });

  it('turns a thrown error into ✗ with its hint as the fix, without credentials in URLs', async () => {
    const results = await runChecks(
      [
        spec('iac', async () => {
          throw new PreflightError('x.y', 'refused', { hint: 'set IAC_X' });
        }),
        spec('plain', async () => {
          throw new Error('cannot reach https://user:s3cret@git.example.com/r.git');
        }, { hint: 'git ls-remote origin' }),
        spec('unknown', async () => {
          throw new NotChecked('the server did not answer');
        }),
      ],
      options,
    );
    expect(results[0]).toMatchObject({ severity: 'error', message: 'refused', fix: 'set IAC_X' });
    expect(results[1]).toMatchObject({ severity: 'error', message: 'cannot reach https://git.example.com/r.git', fix: 'git ls-remote origin' });
    expect(results[2]).toMatchObject({ ok: false, severity: 'skipped', message: 'not checked: the server did not answer' });
  });
});
