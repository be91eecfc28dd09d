/**
 * Judging pods, kept apart from watching them (like rollout-status.ts for workloads): which
 * container states can never recover (fail at once), which may (CrashLoopBackOff: a grace period),
 * and a one-line description naming the image when it cannot be pulled.
 */
import type { ContainerStatus, EventObject, PodObject } from './types.js';

/** States that do not fix themselves: the image or the pod spec must change. */
export const FATAL_REASONS: ReadonlySet<string> = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
]);

export const CRASH_LOOP_REASON = 'CrashLoopBackOff';

export type ProblemSeverity = 'fatal' | 'crashloop' | 'waiting';

export interface PodProblem {
  pod: string;
  container?: string;
  reason: string;
  message?: string;
  image?: string;
  restartCount?: number;
  /** `reason (exit code n): message` of the container's last termination. */
  lastTermination?: string;
  severity: ProblemSeverity;
}

function imageOf(pod: PodObject, status: ContainerStatus): string | undefined {
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === status.name);
  return spec?.image ?? status.image;
}

function describeTermination(status: ContainerStatus): string | undefined {
  const terminated = status.lastState?.terminated ?? status.state?.terminated;
  if (terminated === undefined) return undefined;
  const text = `${terminated.reason ?? 'Terminated'} (exit code ${terminated.exitCode ?? 0})`;
  return terminated.message ? `${text}: ${terminated.message.trim()}` : text;
}

/** The first thing wrong with a pod (init containers first, as the kubelet runs them), if any. */
export function diagnosePod(pod: PodObject): PodProblem | undefined {
  const name = pod.metadata?.name ?? '';
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    const terminated = status.state?.terminated;
    const base = {
      pod: name,
      ...(status.name === undefined ? {} : { container: status.name }),
      ...(imageOf(pod, status) === undefined ? {} : { image: imageOf(pod, status) }),
      ...(status.restartCount === undefined ? {} : { restartCount: status.restartCount }),
      ...(describeTermination(status) === undefined ? {} : { lastTermination: describeTermination(status) }),
    };
    if (waiting?.reason !== undefined && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      const severity: ProblemSeverity = FATAL_REASONS.has(waiting.reason) ? 'fatal' : waiting.reason === CRASH_LOOP_REASON ? 'crashloop' : 'waiting';
      return { ...base, reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}), severity };
    }
    if (terminated !== undefined && (terminated.exitCode ?? 0) !== 0) {
      return { ...base, reason: terminated.reason ?? 'Error', ...(terminated.message ? { message: terminated.message.trim() } : {}), severity: 'waiting' };
    }
  }
  const unschedulable = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable !== undefined) {
    return { pod: name, reason: unschedulable.reason ?? 'Unschedulable', ...(unschedulable.message ? { message: unschedulable.message } : {}), severity: 'waiting' };
  }
  return undefined;
}

/** One line for the failure: names the container, the image for pull problems, and the reason. */
export function describeProblem(problem: PodProblem): string {
  const container = problem.container === undefined ? `pod ${problem.pod}` : `container "${problem.container}" of pod ${problem.pod}`;
  switch (problem.reason) {
    case 'ImagePullBackOff':
    case 'ErrImagePull':
    case 'ErrImageNeverPull':
      return `${container} cannot pull image "${problem.image ?? '?'}" (${problem.reason})`;
    case 'InvalidImageName':
      return `${container} has an invalid image name "${problem.image ?? '?'}" (InvalidImageName)`;
    case 'CreateContainerConfigError':
      return `${container} cannot be created: ${problem.message ?? 'invalid configuration'} (CreateContainerConfigError)`;
    case CRASH_LOOP_REASON:
      return `${container} keeps crashing (CrashLoopBackOff, ${problem.restartCount ?? 0} restarts${problem.lastTermination ? `, last: ${problem.lastTermination}` : ''})`;
    default:
      return `${container}: ${problem.reason}${problem.message ? `: ${problem.message}` : ''}`;
  }
}

/** Warning events, most recent first. */
export function recentWarnings(events: EventObject[], limit = 10): EventObject[] {
  const time = (event: EventObject): number => Date.parse(event.lastTimestamp ?? event.firstTimestamp ?? event.metadata?.creationTimestamp ?? '') || 0;
  return events
    .filter((event) => event.type === 'Warning')
    .sort((a, b) => time(b) - time(a))
    .slice(0, limit);
}

export function describeEvent(event: EventObject): string {
  const count = (event.count ?? 1) > 1 ? ` (x${event.count})` : '';
  return `${event.type ?? 'Normal'} ${event.reason ?? ''}: ${event.message ?? ''}${count}`;
}
