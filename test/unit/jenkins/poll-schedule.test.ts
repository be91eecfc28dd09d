import { describe, expect, it } from 'vitest';
import { queueWaitHintMs } from '../../../src/jenkins/model.js';
import { PollSchedule } from '../../../src/jenkins/poll-schedule.js';

describe('PollSchedule: short first polls, backoff, Jenkins hints, never slower than the interval', () => {
  it('without hints: 100, 200, 400, 800, then the interval', () => {
    const schedule = new PollSchedule(1000);
    expect([0, 0, 0, 0, 0, 0].map(() => schedule.next(0))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('a hint within the interval: wait until just after it, then short polls again', () => {
    const schedule = new PollSchedule(1000);
    schedule.next(0);
    schedule.next(0);
    expect(schedule.next(10_000, 10_600)).toBe(630);
    expect(schedule.next(10_630)).toBe(100);
    expect(schedule.next(10_730)).toBe(200);
  });

  it('a hint further away than the interval: poll at the interval (the console still refreshes)', () => {
    const schedule = new PollSchedule(1000);
    expect(schedule.next(0, 60_000)).toBe(1000);
  });

  it('a hint already passed counts as none', () => {
    const schedule = new PollSchedule(1000);
    expect(schedule.next(5000, 1000)).toBe(100);
  });

  it('a short configured interval caps everything, first polls included', () => {
    const schedule = new PollSchedule(50);
    expect([schedule.next(0), schedule.next(0), schedule.next(0, 10_000)]).toEqual([50, 50, 50]);
  });

  it('reset() starts over with short polls', () => {
    const schedule = new PollSchedule(1000);
    for (let i = 0; i < 6; i++) schedule.next(0);
    schedule.reset();
    expect(schedule.next(0)).toBe(100);
  });
});

describe('queueWaitHintMs reads Jenkins’ why texts', () => {
  it.each([
    ['In the quiet period. Expires in 4.6 sec', 4600],
    ['In the quiet period. Expires in 0.9 sec', 900],
    ['In the quiet period. Expires in 1 min 5 sec', 65_000],
    ['In the quiet period. Expires in 2 min', 120_000],
    ['In the quiet period. Expires in 12 ms', 12],
    ['Build #9 is already in progress (ETA: 15 sec)', 15_000],
    ['Build #9 is already in progress (ETA:15 sec)', 15_000],
    ['Finished waiting', undefined],
    ['Waiting for next available executor', undefined],
    [null, undefined],
  ])('%s → %s', (why, expected) => {
    expect(queueWaitHintMs(why)).toBe(expected);
  });
});
