import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeEvent, describeProblem, diagnosePod, recentWarnings } from '../../../src/kube/pod-diagnosis.js';
import type { EventObject, PodObject } from '../../../src/kube/types.js';

const fixture = (name: string): unknown =>
  parse(readFileSync(fileURLToPath(new URL(`../../fixtures/kube/${name}`, import.meta.url)), 'utf8'));

describe('diagnosePod', () => {
  it('ImagePullBackOff (fixture) is fatal and names the image', () => {
    const problem = diagnosePod(fixture('pod-imagepullbackoff.yaml') as PodObject);
    expect(problem).toMatchObject({ reason: 'ImagePullBackOff', severity: 'fatal', image: 'gcr.io/heptio-images/ks-guestbook-demo:0.3' });
    expect(describeProblem(problem!)).toContain('cannot pull image "gcr.io/heptio-images/ks-guestbook-demo:0.3" (ImagePullBackOff)');
  });

  it('CrashLoopBackOff (fixture) gets a grace period and carries the last termination', () => {
    const problem = diagnosePod(fixture('pod-crashloopbackoff.yaml') as PodObject);
    expect(problem).toMatchObject({ reason: 'CrashLoopBackOff', severity: 'crashloop', container: 'main', restartCount: 3, lastTermination: 'Error (exit code 1)' });
    expect(describeProblem(problem!)).toBe('container "main" of pod my-pod keeps crashing (CrashLoopBackOff, 3 restarts, last: Error (exit code 1))');
  });

  it('OpenShift pod list (fixture): CrashLoopBackOff first, an unknown waiting reason is only reported', () => {
    const list = fixture('pod-list-crashloop-openshift.yaml') as { items: PodObject[] };
    expect(diagnosePod(list.items[0] as PodObject)).toMatchObject({ container: 'container3', severity: 'crashloop' });
    const unknown: PodObject = {
      metadata: { name: 'p' },
      status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 'Image: openshift/ruby-hello-world is not ready on the node' } } }] },
    };
    expect(diagnosePod(unknown)?.severity).toBe('waiting');
  });

  it.each(['ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError'])('%s is fatal', (reason) => {
    const pod: PodObject = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] }, status: { containerStatuses: [{ name: 'c', state: { waiting: { reason, message: 'm' } } }] } };
    expect(diagnosePod(pod)?.severity).toBe('fatal');
  });

  it('creating, running and ready pods have no problem; unschedulable ones are reported', () => {
    expect(diagnosePod({ status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ContainerCreating' } } }] } })).toBeUndefined();
    expect(diagnosePod({ status: { containerStatuses: [{ name: 'c', ready: true, state: { running: {} } }] } })).toBeUndefined();
    expect(
      diagnosePod({ metadata: { name: 'p' }, status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] } }),
    ).toMatchObject({ reason: 'Unschedulable', severity: 'waiting' });
  });
});

describe('recentWarnings', () => {
  it('keeps Warning events, newest first', () => {
    const events: EventObject[] = [
      { type: 'Warning', reason: 'Failed', message: 'old', lastTimestamp: '2024-01-01T00:00:00Z' },
      { type: 'Normal', reason: 'Pulling', message: 'n', lastTimestamp: '2024-01-01T00:00:02Z' },
      { type: 'Warning', reason: 'BackOff', message: 'new', count: 4, lastTimestamp: '2024-01-01T00:00:03Z' },
    ];
    expect(recentWarnings(events).map(describeEvent)).toEqual(['Warning BackOff: new (x4)', 'Warning Failed: old']);
  });
});
