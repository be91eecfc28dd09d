/**
 * The controller manager of the sandbox cluster. Whoever changes a workload — a `kubectl apply`,
 * `set image`, `rollout undo`, a scenario — the controllers notice the new generation, observe it
 * after `observeDelayMs`, and carry it out one step every `stepMs`, writing what the real ones
 * write: Deployments get a ReplicaSet per pod template (revision annotations, ownerReferences to
 * the Deployment's uid, old sets scaled to 0, ScalingReplicaSet events); StatefulSets replace pods
 * from the highest ordinal with ControllerRevisions and current/update revisions; DaemonSets
 * replace one pod at a time. Deleting a workload deletes what it owns.
 */
import { randomUUID } from 'node:crypto';
import { templateHash } from './kubernetes-hash.js';
import {
  PodLifecycle,
  isActive,
  isReady,
  primaryImage,
  randomSuffix,
  writeEvent,
  type ImageBehaviour,
  type PodPlacement,
} from './kubernetes-pods.js';
import { nowIso, type KubeStore, type OwnerReference, type StoreEvent, type StoredObject } from './kubernetes-store.js';

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

type Json = Record<string, unknown>;

const REVISION = 'deployment.kubernetes.io/revision';
/** Deployment annotations the controller does not copy onto its ReplicaSets (deployment_util.go skipCopyAnnotation). */
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
]);

function workloadKey(resource: string, namespace: string, name: string): string {
  return `${resource}/${namespace}/${name}`;
}

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

function ownedBy(object: StoredObject, uid: string | undefined): boolean {
  return (object.metadata.ownerReferences ?? []).some((owner) => owner.uid === uid && owner.controller === true);
}

function revisionOf(object: StoredObject): number {
  return Number(object.metadata.annotations?.[REVISION] ?? '0') || 0;
}

function condition(type: string, status: string, reason: string, message: string, previous?: Json[]): Json {
  const now = nowIso();
  const before = previous?.find((c) => c.type === type);
  const transition = before !== undefined && before.status === status ? before.lastTransitionTime : now;
  return { type, status, lastUpdateTime: now, lastTransitionTime: transition, reason, message };
}

type StepResult = 'progress' | 'waiting' | 'done';

/** Shared by all workload controllers: timers, the workload object, pods it owns. */
abstract class WorkloadController {
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

/** One ReplicaSet (Deployment) or ReplicationController (DeploymentConfig). */
interface PodSet {
  name: string;
  uid: string;
  revision: number;
  hash: string;
  template: Json;
  object?: StoredObject;
}

/** Deployments (ReplicaSets in the store) and OpenShift DeploymentConfigs (replication controllers kept in memory). */
class DeploymentController extends WorkloadController {
  /** DeploymentConfig only: its replication controllers. */
  private readonly controllers: (PodSet & { replicas: number })[] = [];
  private completed = false;

  private get openshift(): boolean {
    return this.resource === 'deploymentconfigs';
  }

  private sets(): PodSet[] {
    if (this.openshift) return [...this.controllers];
    const uid = this.object()?.metadata.uid;
    return this.store
      .list('replicasets', this.namespace)
      .filter((rs) => ownedBy(rs, uid))
      .map((rs) => ({
        name: rs.metadata.name,
        uid: rs.metadata.uid ?? '',
        revision: revisionOf(rs),
        hash: rs.metadata.labels?.['pod-template-hash'] ?? '',
        template: (rs.spec?.template ?? {}) as Json,
        object: rs,
      }))
      .sort((a, b) => a.revision - b.revision);
  }

  private podsOf(set: PodSet): StoredObject[] {
    return this.store.list('pods', this.namespace).filter((pod) => ownedBy(pod, set.uid));
  }

  private replicas(object: StoredObject): number {
    return num(object.spec?.replicas, 1);
  }

  protected override observe(): void {
    const workload = this.object();
    if (workload === undefined) return;
    const template = (workload.spec?.template ?? {}) as Json;
    const hash = templateHash(template);
    const sets = this.sets();
    const paused = workload.spec?.paused === true;
    const maxRevision = Math.max(0, ...sets.map((s) => s.revision));
    let current = sets.find((set) => set.hash === hash);
    if (!paused) {
      if (current === undefined) current = this.createSet(workload, template, hash, maxRevision + 1);
      else if (current.revision < maxRevision || (this.openshift && current.revision !== maxRevision)) current = this.bumpRevision(current, maxRevision + 1);
    }
    this.completed = false;
    this.lastProgress = Date.now();
    const annotations = { ...(workload.metadata.annotations ?? {}) };
    if (!this.openshift && current !== undefined) annotations[REVISION] = String(current.revision);
    const previous = (workload.status?.conditions ?? []) as Json[];
    let conditions: Json[];
    if (paused) {
      conditions = [condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused', previous)];
    } else if (this.openshift) {
      conditions = [condition('Progressing', 'True', 'ReplicationControllerUpdated', `replication controller "${current?.name ?? ''}" is progressing`, previous)];
    } else {
      const created = sets.every((set) => set.hash !== hash);
      conditions = [
        ...previous.filter((c) => c.type === 'Available'),
        created
          ? condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${current?.name ?? ''}"`, previous)
          : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${current?.name ?? ''}" is progressing.`, previous),
      ];
    }
    this.writeStatus({ ...this.computeStatus(current), observedGeneration: workload.metadata.generation ?? 1, conditions }, annotations);
  }

  private createSet(workload: StoredObject, template: Json, hash: string, revision: number): PodSet {
    if (this.openshift) {
      const set = { name: `${this.name}-${revision}`, uid: randomUUID(), revision, hash, template: structuredClone(template), replicas: 0 };
      this.controllers.push(set);
      return set;
    }
    const labels = { ...((template.metadata as Json | undefined)?.labels as Record<string, string> | undefined), 'pod-template-hash': hash };
    const selector = structuredClone((workload.spec?.selector ?? {}) as Json);
    selector.matchLabels = { ...((selector.matchLabels ?? {}) as Record<string, string>), 'pod-template-hash': hash };
    const copied = Object.fromEntries(Object.entries(workload.metadata.annotations ?? {}).filter(([key]) => !NOT_COPIED.has(key)));
    const replicas = this.replicas(workload);
    const rs = this.store.put('replicasets', {
      metadata: {
        name: `${this.name}-${hash}`,
        namespace: this.namespace,
        labels,
        annotations: {
          ...copied,
          'deployment.kubernetes.io/desired-replicas': String(replicas),
          'deployment.kubernetes.io/max-replicas': String(replicas + 1),
          [REVISION]: String(revision),
        },
        ownerReferences: [{ ...this.owner(workload), controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 0, selector, template: { ...structuredClone(template), metadata: { ...structuredClone((template.metadata ?? {}) as Json), labels } } },
      status: { replicas: 0, observedGeneration: 1 },
    });
    return { name: rs.metadata.name, uid: rs.metadata.uid ?? '', revision, hash, template: (rs.spec?.template ?? {}) as Json, object: rs };
  }

  /** A rollback to an older template: that ReplicaSet becomes the newest revision (its old number leaves the history). */
  private bumpRevision(set: PodSet, revision: number): PodSet {
    if (this.openshift) {
      const next = { ...set, name: `${this.name}-${revision}`, uid: randomUUID(), revision, replicas: 0 };
      this.controllers.push(next);
      return next;
    }
    const rs = structuredClone(set.object as StoredObject);
    const annotations = (rs.metadata.annotations ??= {});
    const history = [annotations['deployment.kubernetes.io/revision-history'], String(set.revision)].filter((v) => v !== undefined && v !== '');
    annotations['deployment.kubernetes.io/revision-history'] = history.join(',');
    annotations[REVISION] = String(revision);
    const stored = this.store.put('replicasets', rs);
    return { ...set, revision, object: stored };
  }

  private currentSet(): PodSet | undefined {
    const workload = this.object();
    if (workload === undefined) return undefined;
    const hash = templateHash(workload.spec?.template ?? {});
    return this.sets().find((set) => set.hash === hash);
  }

  protected override step(): StepResult {
    const workload = this.object();
    if (workload === undefined) return 'done';
    const removed = this.removeTerminated();
    if (workload.spec?.paused === true) {
      this.refresh(this.currentSet());
      return removed ? 'progress' : 'done';
    }
    const current = this.currentSet();
    if (current === undefined) {
      this.observe();
      return 'progress';
    }
    const desired = this.replicas(workload);
    const others = this.sets().filter((set) => set.uid !== current.uid);
    const newPods = this.podsOf(current).filter(isActive);
    const oldPods = others.flatMap((set) => this.podsOf(set).filter(isActive));
    const starting = newPods.find((pod) => this.pods.isStartable(pod));
    let result: StepResult = removed ? 'progress' : 'waiting';
    if (this.settling) {
      for (const pod of [...oldPods, ...newPods.slice(desired)]) this.pods.remove(this.namespace, pod.metadata.name);
      this.addPods(workload, current, desired - newPods.length);
      this.refresh(current);
      return this.finish(current);
    }
    if (starting !== undefined) {
      if (newPods.length >= desired && oldPods.length > 0) this.retire(workload, oldPods[0] as StoredObject, others);
      else {
        this.pods.start(starting);
        if (oldPods.length > 0 && newPods.length < desired) this.retire(workload, oldPods[0] as StoredObject, others);
      }
      result = 'progress';
    } else if (newPods.some((pod) => !isReady(pod))) {
      // A new pod that cannot start (stuck, failing): the rollout waits, as maxUnavailable 0 makes it.
    } else if (newPods.length < desired) {
      // A scale-up (no old pods) creates every missing pod at once; a rolling update surges by one.
      this.addPods(workload, current, oldPods.length === 0 ? desired - newPods.length : 1);
      result = 'progress';
    } else if (oldPods.length > 0) {
      this.retire(workload, oldPods[0] as StoredObject, others);
      result = 'progress';
    } else if (newPods.length > desired) {
      this.retire(workload, newPods[newPods.length - 1] as StoredObject, [current]);
      result = 'progress';
    } else if (!removed) {
      this.refresh(current);
      return this.finish(current);
    }
    this.refresh(current);
    return result;
  }

  /** Pods marked Terminating one step ago go away now. */
  private removeTerminated(): boolean {
    let removed = false;
    for (const set of this.sets()) {
      for (const pod of this.podsOf(set).filter((p) => !isActive(p))) {
        this.pods.remove(this.namespace, pod.metadata.name);
        removed = true;
      }
    }
    return removed;
  }

  /** Scales the set up by `count`: the deployment controller's event, then the ReplicaSet controller's pods. */
  private addPods(workload: StoredObject, set: PodSet, count: number): void {
    if (count <= 0) return;
    const before = this.podsOf(set).filter(isActive).length;
    const labels: Record<string, string> = { ...((set.template.metadata as Json | undefined)?.labels as Record<string, string> | undefined) };
    if (this.openshift) {
      labels.deployment = set.name;
      labels.deploymentconfig = this.name;
    } else labels['pod-template-hash'] = set.hash;
    const owner: OwnerReference = this.openshift
      ? { apiVersion: 'v1', kind: 'ReplicationController', name: set.name, uid: set.uid }
      : { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: set.name, uid: set.uid };
    this.setReplicas(set, before + count);
    if (!this.openshift) this.event(workload, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${set.name} from ${before} to ${before + count}`, 'deployment-controller');
    for (let i = 0; i < count; i++) {
      const name = `${set.name}-${randomSuffix(5)}`;
      this.createPod({ name, generateName: `${set.name}-`, namespace: this.namespace, template: set.template, labels: { ...labels }, owner }, set.template);
      if (set.object !== undefined) this.event(set.object, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'replicaset-controller');
    }
  }

  private retire(workload: StoredObject, pod: StoredObject, sets: PodSet[]): void {
    const set = sets.find((candidate) => ownedBy(pod, candidate.uid));
    this.pods.terminate(pod);
    if (set === undefined) return;
    const remaining = this.podsOf(set).filter(isActive).length;
    this.setReplicas(set, remaining);
    if (!this.openshift) this.event(workload, 'Normal', 'ScalingReplicaSet', `Scaled down replica set ${set.name} from ${remaining + 1} to ${remaining}`, 'deployment-controller');
    if (set.object !== undefined) this.event(set.object, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, 'replicaset-controller');
  }

  private setReplicas(set: PodSet, replicas: number): void {
    if (this.openshift) {
      const rc = this.controllers.find((c) => c.uid === set.uid);
      if (rc !== undefined) rc.replicas = replicas;
      return;
    }
    const rs = this.store.get('replicasets', this.namespace, set.name);
    if (rs === undefined || rs.spec?.replicas === replicas) return;
    const next = structuredClone(rs);
    (next.spec ??= {}).replicas = replicas;
    set.object = this.store.put('replicasets', next);
  }

  /** ReplicaSet statuses from their pods, then the workload's. */
  private refresh(current: PodSet | undefined): void {
    if (!this.openshift) {
      for (const set of this.sets()) {
        const rs = set.object as StoredObject;
        const pods = this.podsOf(set).filter(isActive);
        const ready = pods.filter(isReady).length;
        const status: Json = { replicas: pods.length, observedGeneration: rs.metadata.generation ?? 1 };
        if (pods.length > 0) status.fullyLabeledReplicas = pods.length;
        if (ready > 0) Object.assign(status, { readyReplicas: ready, availableReplicas: ready });
        if (JSON.stringify(status) !== JSON.stringify(rs.status)) this.store.put('replicasets', { ...structuredClone(rs), status });
      }
    }
    const workload = this.object();
    if (workload === undefined) return;
    const previous = (workload.status?.conditions ?? []) as Json[];
    const status: Json = { ...this.computeStatus(current), observedGeneration: workload.status?.observedGeneration, conditions: previous };
    if (!this.openshift) {
      const available = num(status.availableReplicas);
      const minimum = Math.max(0, this.replicas(workload) - this.maxUnavailable(workload));
      const availability = available >= minimum
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.', previous)
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.', previous);
      const before = previous.find((c) => c.type === 'Available');
      const keep = before !== undefined && before.status === availability.status ? before : availability;
      status.conditions = [keep, ...previous.filter((c) => c.type !== 'Available')];
    }
    this.writeStatus(status);
  }

  private maxUnavailable(workload: StoredObject): number {
    const value = ((workload.spec?.strategy as Json | undefined)?.rollingUpdate as Json | undefined)?.maxUnavailable;
    const replicas = this.replicas(workload);
    if (typeof value === 'number') return value;
    const percent = /^(\d+)%$/.exec(String(value ?? '25%'));
    return percent ? Math.floor((replicas * Number(percent[1])) / 100) : 0;
  }

  private computeStatus(current: PodSet | undefined): Json {
    const all = this.sets().flatMap((set) => this.podsOf(set).filter(isActive));
    const updated = current === undefined ? [] : this.podsOf(current).filter(isActive);
    const ready = all.filter(isReady).length;
    const status: Json = {
      replicas: all.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
    };
    if (all.length - ready > 0) status.unavailableReplicas = all.length - ready;
    if (this.openshift) {
      status.latestVersion = Math.max(0, ...this.controllers.map((c) => c.revision));
      status.unavailableReplicas = Math.max(0, all.length - ready);
    }
    return status;
  }

  private finish(current: PodSet): StepResult {
    const workload = this.object();
    if (workload === undefined || this.completed) return 'done';
    this.completed = true;
    const previous = (workload.status?.conditions ?? []) as Json[];
    const conditions = this.openshift
      ? [condition('Progressing', 'True', 'NewReplicationControllerAvailable', `replication controller "${current.name}" successfully rolled out`, previous)]
      : [
          ...previous.filter((c) => c.type === 'Available'),
          condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${current.name}" has successfully progressed.`, previous),
        ];
    this.writeStatus({ ...(workload.status ?? {}), conditions });
    this.pruneHistory(workload);
    return 'done';
  }

  /** Keeps spec.revisionHistoryLimit old ReplicaSets (scaled to 0), deleting older ones. */
  private pruneHistory(workload: StoredObject): void {
    if (this.openshift) return;
    const limit = num(workload.spec?.revisionHistoryLimit, 10);
    const current = this.currentSet();
    const old = this.sets().filter((set) => set.uid !== current?.uid && this.podsOf(set).length === 0);
    for (const set of old.slice(0, Math.max(0, old.length - limit))) this.store.delete('replicasets', this.namespace, set.name);
  }

  protected override progressDeadlineMs(): number | undefined {
    const override = this.timing.progressDeadlineMs;
    if (override !== undefined) return override;
    const seconds = this.object()?.spec?.progressDeadlineSeconds;
    return typeof seconds === 'number' ? seconds * 1000 : undefined;
  }

  protected override deadlineExceeded(): void {
    const workload = this.object();
    const current = this.currentSet();
    if (workload === undefined || this.completed || current === undefined) return;
    const previous = (workload.status?.conditions ?? []) as Json[];
    this.writeStatus({
      ...(workload.status ?? {}),
      conditions: [
        ...previous.filter((c) => c.type !== 'Progressing'),
        condition('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${current.name}" has timed out progressing.`, previous),
      ],
    });
    if (!this.openshift) this.event(workload, 'Warning', 'ProgressDeadlineExceeded', `Deployment "${this.name}" has timed out progressing.`, 'deployment-controller');
  }

  protected override collectGarbage(uid: string | undefined): void {
    for (const rs of this.store.list('replicasets', this.namespace).filter((r) => ownedBy(r, uid))) {
      for (const pod of this.store.list('pods', this.namespace).filter((p) => ownedBy(p, rs.metadata.uid))) this.pods.remove(this.namespace, pod.metadata.name);
      this.store.delete('replicasets', this.namespace, rs.metadata.name);
    }
    for (const rc of this.controllers.splice(0)) {
      for (const pod of this.store.list('pods', this.namespace).filter((p) => ownedBy(p, rc.uid))) this.pods.remove(this.namespace, pod.metadata.name);
    }
  }
}

/** StatefulSets and DaemonSets: ControllerRevisions, pods replaced in place. */
abstract class RevisionController extends WorkloadController {
  protected revisionName(hash: string): string {
    return `${this.name}-${hash}`;
  }

  protected revisions(): StoredObject[] {
    const uid = this.object()?.metadata.uid;
    return this.store
      .list('controllerrevisions', this.namespace)
      .filter((r) => ownedBy(r, uid))
      .sort((a, b) => num(a.revision) - num(b.revision));
  }

  /** The ControllerRevision of the current template (created, or renumbered as the newest). */
  protected ensureRevision(workload: StoredObject, hash: string): StoredObject {
    const name = this.revisionName(hash);
    const revisions = this.revisions();
    const newest = Math.max(0, ...revisions.map((r) => num(r.revision)));
    const existing = revisions.find((r) => r.metadata.name === name);
    if (existing !== undefined) {
      if (num(existing.revision) === newest) return existing;
      return this.store.put('controllerrevisions', { ...structuredClone(existing), revision: newest + 1 });
    }
    const template = structuredClone((workload.spec?.template ?? {}) as Json);
    return this.store.put('controllerrevisions', {
      metadata: {
        name,
        namespace: this.namespace,
        labels: { ...((template.metadata as Json | undefined)?.labels as Record<string, string> | undefined), 'controller.kubernetes.io/hash': hash },
        ownerReferences: [{ ...this.owner(workload), controller: true, blockOwnerDeletion: true }],
      },
      data: { spec: { template: { ...template, $patch: 'replace' } } },
      revision: newest + 1,
    });
  }

  protected templateOfRevision(name: string): Json | undefined {
    const revision = this.store.get('controllerrevisions', this.namespace, name);
    const template = ((revision?.data as Json | undefined)?.spec as Json | undefined)?.template as Json | undefined;
    if (template === undefined) return undefined;
    const { $patch: _patch, ...rest } = template;
    return rest;
  }

  protected isRollingUpdate(workload: StoredObject): boolean {
    return ((workload.spec?.updateStrategy as Json | undefined)?.type ?? 'RollingUpdate') === 'RollingUpdate';
  }
}

class StatefulSetController extends RevisionController {
  protected override observe(): void {
    const workload = this.object();
    if (workload === undefined) return;
    const hash = templateHash(workload.spec?.template ?? {});
    const revision = this.ensureRevision(workload, hash);
    const status = { ...(workload.status ?? {}) };
    status.updateRevision = revision.metadata.name;
    status.currentRevision ??= revision.metadata.name;
    status.observedGeneration = workload.metadata.generation ?? 1;
    this.lastProgress = Date.now();
    this.writeStatus({ ...status, ...this.counts(status) });
  }

  private podName(ordinal: number): string {
    return `${this.name}-${ordinal}`;
  }

  private podsByOrdinal(): Map<number, StoredObject> {
    const uid = this.object()?.metadata.uid;
    const byOrdinal = new Map<number, StoredObject>();
    for (const pod of this.ownedPods(uid)) {
      const ordinal = Number(pod.metadata.name.slice(this.name.length + 1));
      if (Number.isInteger(ordinal)) byOrdinal.set(ordinal, pod);
    }
    return byOrdinal;
  }

  private counts(status: Json): Json {
    const pods = [...this.podsByOrdinal().values()].filter(isActive);
    const ready = pods.filter(isReady).length;
    const at = (revision: unknown): number => pods.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] === revision).length;
    return {
      replicas: pods.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: at(status.currentRevision),
      updatedReplicas: at(status.updateRevision),
      collisionCount: 0,
    };
  }

  private addPod(workload: StoredObject, ordinal: number, revision: string): void {
    const template = this.templateOfRevision(revision) ?? ((workload.spec?.template ?? {}) as Json);
    const name = this.podName(ordinal);
    const spec = { ...((template.spec ?? {}) as Json), hostname: name, ...(workload.spec?.serviceName ? { subdomain: workload.spec.serviceName } : {}) };
    const labels = {
      ...((template.metadata as Json | undefined)?.labels as Record<string, string> | undefined),
      'controller-revision-hash': revision,
      'statefulset.kubernetes.io/pod-name': name,
      'apps.kubernetes.io/pod-index': String(ordinal),
    };
    this.createPod({ name, namespace: this.namespace, template: { ...template, spec }, labels, owner: this.owner(workload) }, template);
    this.event(workload, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${this.name} successful`, 'statefulset-controller');
  }

  private deletePod(workload: StoredObject, pod: StoredObject): void {
    this.pods.remove(this.namespace, pod.metadata.name);
    this.event(workload, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${this.name} successful`, 'statefulset-controller');
  }

  protected override step(): StepResult {
    const workload = this.object();
    if (workload === undefined) return 'done';
    const status = { ...(workload.status ?? {}) };
    const update = String(status.updateRevision ?? '');
    const current = String(status.currentRevision ?? update);
    const replicas = num(workload.spec?.replicas, 1);
    const rolling = this.isRollingUpdate(workload);
    const rollingUpdate = (workload.spec?.updateStrategy as Json | undefined)?.rollingUpdate as Json | undefined;
    const partition = rolling ? num(rollingUpdate?.partition) : replicas;
    const pods = this.podsByOrdinal();
    let result: StepResult = 'waiting';
    const starting = [...pods.values()].find((pod) => this.pods.isStartable(pod));
    const revisionFor = (ordinal: number): string => (ordinal >= partition || !rolling ? update : current);
    if (this.settling) {
      for (const [ordinal, pod] of pods) if (ordinal >= replicas || pod.metadata.labels?.['controller-revision-hash'] !== revisionFor(ordinal)) this.pods.remove(this.namespace, pod.metadata.name);
      for (let i = 0; i < replicas; i++) if (this.store.get('pods', this.namespace, this.podName(i)) === undefined) this.addPod(workload, i, revisionFor(i));
      result = 'done';
    } else if (starting !== undefined) {
      this.pods.start(starting);
      result = 'progress';
    } else if ([...pods.values()].some((pod) => !isReady(pod))) {
      // OrderedReady: nothing moves while a pod is not ready.
    } else {
      const missing = Array.from({ length: replicas }, (_, i) => i).find((i) => !pods.has(i));
      const extra = [...pods.keys()].filter((i) => i >= replicas).sort((a, b) => b - a)[0];
      const outdated = rolling
        ? Array.from({ length: replicas }, (_, i) => replicas - 1 - i).find((i) => i >= partition && pods.get(i)?.metadata.labels?.['controller-revision-hash'] !== update)
        : undefined;
      if (missing !== undefined) {
        this.addPod(workload, missing, revisionFor(missing));
        result = 'progress';
      } else if (extra !== undefined) {
        this.deletePod(workload, pods.get(extra) as StoredObject);
        result = 'progress';
      } else if (outdated !== undefined) {
        this.deletePod(workload, pods.get(outdated) as StoredObject);
        this.addPod(workload, outdated, update);
        result = 'progress';
      } else result = 'done';
    }
    const after = [...this.podsByOrdinal().values()];
    if (after.length === replicas && after.every((pod) => isReady(pod) && pod.metadata.labels?.['controller-revision-hash'] === update)) status.currentRevision = update;
    this.writeStatus({ ...status, ...this.counts(status) });
    return result;
  }
}

class DaemonSetController extends RevisionController {
  protected override revisionName(hash: string): string {
    return `${this.name}-${hash}`;
  }

  private hash(): string {
    return templateHash(this.object()?.spec?.template ?? {});
  }

  protected override observe(): void {
    const workload = this.object();
    if (workload === undefined) return;
    this.ensureRevision(workload, this.hash());
    this.lastProgress = Date.now();
    this.writeStatus({ ...this.counts(), observedGeneration: workload.metadata.generation ?? 1 });
  }

  private desired(): number {
    return this.timing.nodes ?? 3;
  }

  private counts(): Json {
    const pods = this.ownedPods(this.object()?.metadata.uid).filter(isActive);
    const ready = pods.filter(isReady).length;
    const hash = this.hash();
    const status: Json = {
      currentNumberScheduled: pods.length,
      desiredNumberScheduled: this.desired(),
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      updatedNumberScheduled: pods.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] === hash).length,
    };
    if (this.desired() - ready > 0) status.numberUnavailable = this.desired() - ready;
    return status;
  }

  private addPod(workload: StoredObject, slot: number): void {
    const template = (workload.spec?.template ?? {}) as Json;
    const labels = {
      ...((template.metadata as Json | undefined)?.labels as Record<string, string> | undefined),
      'controller-revision-hash': this.hash(),
      'pod-template-generation': String(workload.metadata.generation ?? 1),
    };
    const name = `${this.name}-${randomSuffix(5)}`;
    this.pods.create(
      { name, generateName: `${this.name}-`, namespace: this.namespace, template, labels, owner: this.owner(workload) },
      this.behaviourFor(template),
      { settled: this.settling, node: `sandbox-node-${(slot % 3) + 1}` },
    );
    this.event(workload, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, 'daemonset-controller');
  }

  protected override step(): StepResult {
    const workload = this.object();
    if (workload === undefined) return 'done';
    const hash = this.hash();
    const pods = this.ownedPods(workload.metadata.uid).filter(isActive);
    const desired = this.desired();
    const starting = pods.find((pod) => this.pods.isStartable(pod));
    const outdated = pods.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] !== hash);
    let result: StepResult = 'waiting';
    if (this.settling) {
      for (const pod of outdated) this.pods.remove(this.namespace, pod.metadata.name);
      for (let i = pods.length - outdated.length; i < desired; i++) this.addPod(workload, i);
      result = 'done';
    } else if (starting !== undefined) {
      this.pods.start(starting);
      result = 'progress';
    } else if (pods.some((pod) => !isReady(pod))) {
      // maxUnavailable 1: one pod at a time.
    } else if (pods.length < desired) {
      this.addPod(workload, pods.length);
      result = 'progress';
    } else if (pods.length > desired) {
      this.pods.remove(this.namespace, (pods[pods.length - 1] as StoredObject).metadata.name);
      result = 'progress';
    } else if (outdated.length > 0 && this.isRollingUpdate(workload)) {
      const old = outdated[0] as StoredObject;
      this.pods.remove(this.namespace, old.metadata.name);
      this.event(workload, 'Normal', 'SuccessfulDelete', `Deleted pod: ${old.metadata.name}`, 'daemonset-controller');
      this.addPod(workload, pods.indexOf(old));
      result = 'progress';
    } else result = 'done';
    this.writeStatus({ ...(this.object()?.status ?? {}), ...this.counts() });
    return result;
  }
}

/** All workload controllers of the cluster, driven by the store's events. */
export class Controllers {
  readonly pods: PodLifecycle;
  private readonly controllers = new Map<string, WorkloadController>();
  private readonly timings = new Map<string, Partial<RolloutTiming>>();
  private readonly behaviours = new Map<string, Map<string, ImageBehaviour>>();
  private writing = 0;
  private unsubscribe: () => void = () => {};

  constructor(
    readonly store: KubeStore,
    private defaults: RolloutTiming,
  ) {
    this.pods = new PodLifecycle(store, (pod) => this.ownerOf(pod)?.kick());
  }

  start(): void {
    this.unsubscribe = this.store.subscribe((event) => this.onEvent(event));
  }

  stop(): void {
    this.unsubscribe();
    for (const controller of this.controllers.values()) controller.stop();
    this.pods.stop();
  }

  setDefaults(timing: Partial<RolloutTiming>): void {
    this.defaults = { ...this.defaults, ...timing };
  }

  setTiming(resource: string, namespace: string, name: string, timing: Partial<RolloutTiming>): void {
    this.timings.set(workloadKey(resource, namespace, name), timing);
  }

  timingOf(resource: string, namespace: string, name: string): RolloutTiming {
    return { ...this.defaults, ...this.timings.get(workloadKey(resource, namespace, name)) };
  }

  /** How pods running `image` behave; `scope` a workload key, or `*` for every workload. */
  setImageBehaviour(image: string, behaviour: ImageBehaviour, workload?: { resource: string; namespace: string; name: string }): void {
    const scope = workload === undefined ? '*' : workloadKey(workload.resource, workload.namespace, workload.name);
    const byImage = this.behaviours.get(scope) ?? new Map<string, ImageBehaviour>();
    byImage.set(image, behaviour);
    this.behaviours.set(scope, byImage);
  }

  behaviourOf(resource: string, namespace: string, name: string, image: string): ImageBehaviour {
    return this.behaviours.get(workloadKey(resource, namespace, name))?.get(image) ?? this.behaviours.get('*')?.get(image) ?? { outcome: 'complete' };
  }

  /** Runs controller writes; their own store events do not re-trigger them. */
  write<T>(action: () => T): T {
    this.writing++;
    try {
      return action();
    } finally {
      this.writing--;
    }
  }

  /** Stores a workload and brings it to its desired state at once (the cluster as it was before a test or demo). */
  seed(resource: WorkloadResource, object: StoredObject): StoredObject {
    const stored = this.write(() => this.store.put(resource, object));
    const controller = this.controllerFor(resource, stored.metadata.namespace, stored.metadata.name);
    controller.settle();
    return this.store.get(resource, stored.metadata.namespace, stored.metadata.name) ?? stored;
  }

  private controllerFor(resource: WorkloadResource, namespace: string, name: string): WorkloadController {
    const key = workloadKey(resource, namespace, name);
    let controller = this.controllers.get(key);
    if (controller === undefined) {
      controller =
        resource === 'statefulsets'
          ? new StatefulSetController(this, resource, namespace, name)
          : resource === 'daemonsets'
            ? new DaemonSetController(this, resource, namespace, name)
            : new DeploymentController(this, resource, namespace, name);
      this.controllers.set(key, controller);
    }
    return controller;
  }

  /** The controller of the workload owning a pod (through its ReplicaSet for Deployments). */
  private ownerOf(pod: StoredObject): WorkloadController | undefined {
    const namespace = pod.metadata.namespace;
    const owner = pod.metadata.ownerReferences?.find((reference) => reference.controller === true);
    if (owner === undefined) return undefined;
    if (owner.kind === 'ReplicaSet') {
      const rs = this.store.get('replicasets', namespace, owner.name);
      const deployment = rs?.metadata.ownerReferences?.find((reference) => reference.kind === 'Deployment');
      return deployment === undefined ? undefined : this.controllers.get(workloadKey('deployments', namespace, deployment.name));
    }
    if (owner.kind === 'ReplicationController') {
      const dc = pod.metadata.labels?.deploymentconfig;
      return dc === undefined ? undefined : this.controllers.get(workloadKey('deploymentconfigs', namespace, dc));
    }
    const resource = owner.kind === 'StatefulSet' ? 'statefulsets' : owner.kind === 'DaemonSet' ? 'daemonsets' : undefined;
    return resource === undefined ? undefined : this.controllers.get(workloadKey(resource, namespace, owner.name));
  }

  private onEvent(event: StoreEvent): void {
    if (this.writing > 0) return;
    const { namespace, name } = event.object.metadata;
    if ((WORKLOAD_RESOURCES as readonly string[]).includes(event.resource)) {
      const resource = event.resource as WorkloadResource;
      if (event.type === 'DELETED') {
        const controller = this.controllers.get(workloadKey(resource, namespace, name));
        controller?.deleted(event.object.metadata.uid);
        this.controllers.delete(workloadKey(resource, namespace, name));
        return;
      }
      const controller = this.controllerFor(resource, namespace, name);
      const observed = num(event.object.status?.observedGeneration);
      if ((event.object.metadata.generation ?? 0) > observed) controller.specChanged();
      else controller.kick();
    } else if (event.resource === 'pods' && event.type === 'DELETED') {
      this.pods.forget(namespace, name);
      this.ownerOf(event.object)?.kick();
    } else if (event.resource === 'replicasets' && event.type === 'DELETED') {
      this.write(() => {
        for (const pod of this.store.list('pods', namespace).filter((p) => ownedBy(p, event.object.metadata.uid))) this.pods.remove(namespace, pod.metadata.name);
      });
      const deployment = event.object.metadata.ownerReferences?.find((reference) => reference.kind === 'Deployment');
      if (deployment !== undefined) this.controllers.get(workloadKey('deployments', namespace, deployment.name))?.kick();
    }
  }
}
