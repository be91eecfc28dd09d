/**
 * What every simulated workload controller shares: the observe → step loop with its timers
 * (`observeDelayMs` after a spec change, one step every `stepMs`, a progress deadline), settling
 * at once for seeded state, garbage collection on delete, and events.
 */
import type { Controllers } from './kubernetes-controllers.js';
import { primaryImage, writeEvent, type ImageBehaviour, type PodLifecycle, type PodPlacement } from './kubernetes-pods.js';
import { nowIso, type KubeStore, type OwnerReference, type StoredObject } from './kubernetes-store.js';

export interface RolloutTiming {
  /** Between two controller steps. */
  stepMs: number;
  /** Between a spec change and the controller observing it. */
  observeDelayMs: number;
  /** Overrides spec.progressDeadlineSeconds (scenarios that must time out quickly). */
  progressDeadlineMs?: number;
  /** DaemonSets: how many nodes run a pod. */
  nodes?: number;
}

export const WORKLOAD_RESOURCES = ['deployments', 'statefulsets', 'daemonsets', 'deploymentconfigs'] as const;
export type WorkloadResource = (typeof WORKLOAD_RESOURCES)[number];

export type Json = Record<string, unknown>;

export const REVISION = 'deployment.kubernetes.io/revision';
/** Deployment annotations the controller does not copy onto its ReplicaSets (deployment_util.go skipCopyAnnotation). */
export const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

export function workloadKey(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

export function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

export function ownedBy(object: StoredObject, uid: string | undefined): boolean {
  return (object.metadata.ownerReferences ?? []).some((owner) => owner.uid === uid && owner.controller === true);
}

export function revisionOf(object: StoredObject): number {
  return Number(object.metadata.annotations?.[REVISION] ?? '0') || 0;
}

export function condition(type: string, status: string, reason: string, message: string, previous?: Json[]): Json {
  const now = nowIso();
  const before = previous?.find((c) => c.type === type);
  const transition = before !== undefined && before.status === status ? before.lastTransitionTime : now;
  return { type, status, lastUpdateTime: now, lastTransitionTime: transition, reason, message };
}

export type StepResult = 'progress' | 'waiting' | 'done';

/** Shared by all workload controllers: timers, the workload object, pods it owns. */
export abstract class WorkloadController {
  private observeTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  protected lastProgress = Date.now();
  protected settling = false;

  constructor(
    protected readonly manager: Controllers,
    readonly resource: WorkloadResource,
    readonly namespace: string,
    readonly name: string,
  ) {}

  get store(): KubeStore {
    return this.manager.store;
  }

  get pods(): PodLifecycle {
    return this.manager.pods;
  }

  get timing(): RolloutTiming {
    return this.manager.timingOf(this.resource, this.namespace, this.name);
  }

  object(): StoredObject | undefined {
    return this.store.get(this.resource, this.namespace, this.name);
  }

  protected get generation(): number {
    return this.object()?.metadata.generation ?? 0;
  }

  protected get observedGeneration(): number {
    return num(this.object()?.status?.observedGeneration);
  }

  /** A spec change: observed after the delay (then stepped). */
  specChanged(): void {
    if (this.observeTimer !== undefined) return;
    this.observeTimer = setTimeout(() => {
      this.observeTimer = undefined;
      this.manager.write(() => this.observe());
      this.kick();
    }, this.timing.observeDelayMs);
  }

  /** Something changed that may let the rollout move on. */
  kick(): void {
    if (this.tickTimer !== undefined || this.observeTimer !== undefined) return;
    this.tickTimer = setTimeout(() => {
      this.tickTimer = undefined;
      this.tick();
    }, this.timing.stepMs);
  }

  private tick(): void {
    const object = this.object();
    if (object === undefined) return;
    if (this.generation > this.observedGeneration) {
      this.specChanged();
      return;
    }
    const result = this.manager.write(() => this.step());
    if (result === 'progress') {
      this.lastProgress = Date.now();
      this.kick();
    } else if (result === 'waiting') this.armDeadline();
  }

  private armDeadline(): void {
    const limit = this.progressDeadlineMs();
    if (limit === undefined || this.deadlineTimer !== undefined) return;
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      if (Date.now() - this.lastProgress >= limit) this.manager.write(() => this.deadlineExceeded());
      else this.armDeadline();
    }, Math.max(0, this.lastProgress + limit - Date.now()));
  }

  protected progressDeadlineMs(): number | undefined {
    return undefined;
  }

  protected deadlineExceeded(): void {}

  /** Brings the workload to its desired state at once (seeding: no events, pods already Running). */
  settle(): void {
    this.stop();
    this.settling = true;
    try {
      this.manager.write(() => {
        this.observe();
        for (let i = 0; i < 1000 && this.step() !== 'done'; i++);
      });
    } finally {
      this.settling = false;
    }
  }

  stop(): void {
    for (const timer of [this.observeTimer, this.tickTimer, this.deadlineTimer]) if (timer !== undefined) clearTimeout(timer);
    this.observeTimer = this.tickTimer = this.deadlineTimer = undefined;
  }

  /** The workload was deleted: the garbage collector removes what it owned. */
  deleted(uid: string | undefined): void {
    this.stop();
    this.manager.write(() => this.collectGarbage(uid));
  }

  protected collectGarbage(uid: string | undefined): void {
    for (const pod of this.store.list('pods', this.namespace).filter((p) => ownedBy(p, uid))) this.pods.remove(this.namespace, pod.metadata.name);
    for (const revision of this.store.list('controllerrevisions', this.namespace).filter((r) => ownedBy(r, uid))) {
      this.store.delete('controllerrevisions', this.namespace, revision.metadata.name);
    }
  }

  protected abstract observe(): void;
  protected abstract step(): StepResult;

  protected ownedPods(uid: string | undefined): StoredObject[] {
    return this.store.list('pods', this.namespace).filter((pod) => ownedBy(pod, uid));
  }

  protected behaviourFor(template: unknown): ImageBehaviour {
    return this.manager.behaviourOf(this.resource, this.namespace, this.name, primaryImage(template));
  }

  protected owner(object: StoredObject): OwnerReference {
    return { apiVersion: String(object.apiVersion), kind: String(object.kind), name: object.metadata.name, uid: object.metadata.uid ?? '' };
  }

  protected event(object: StoredObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    if (this.settling) return;
    writeEvent(this.store, {
      namespace: this.namespace,
      involved: { kind: String(object.kind), name: object.metadata.name, uid: object.metadata.uid ?? '', apiVersion: String(object.apiVersion) },
      type,
      reason,
      message,
      component,
    });
  }

  /** Writes the workload with a new status (and annotations), keeping its spec as stored. */
  protected writeStatus(status: Json, annotations?: Record<string, string>): void {
    const current = this.object();
    if (current === undefined) return;
    const next = structuredClone(current);
    next.status = status;
    if (annotations !== undefined) next.metadata.annotations = annotations;
    if (JSON.stringify(next.status) === JSON.stringify(current.status) && JSON.stringify(next.metadata.annotations) === JSON.stringify(current.metadata.annotations)) return;
    this.store.put(this.resource, next);
  }

  protected createPod(placement: PodPlacement, template: unknown): void {
    this.pods.create(placement, this.behaviourFor(template), { settled: this.settling });
  }
}
