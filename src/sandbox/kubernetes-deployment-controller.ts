/**
 * The deployment controller (and the ReplicaSet controller under it): a ReplicaSet per pod
 * template, named by its hash, with the next `deployment.kubernetes.io/revision` (a rollback
 * renumbers the old one), ownerReferences to the Deployment's uid; a rolling update surges one new
 * pod at a time and scales the old sets to 0, with ScalingReplicaSet events; the Progressing and
 * Available conditions as kubectl reads them. OpenShift DeploymentConfigs run the same way with
 * replication controllers `<name>-<version>` kept in memory.
 */
import { randomUUID } from 'node:crypto';
import { templateHash } from './kubernetes-hash.js';
import { isActive, isReady, randomSuffix } from './kubernetes-pods.js';
import type { OwnerReference, StoredObject } from './kubernetes-store.js';
import { NOT_COPIED, REVISION, WorkloadController, condition, num, ownedBy, revisionOf, type Json, type StepResult } from './kubernetes-workload-controller.js';

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
export class DeploymentController extends WorkloadController {
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
