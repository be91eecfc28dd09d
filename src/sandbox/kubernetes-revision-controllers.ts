/**
 * The StatefulSet and DaemonSet controllers: a ControllerRevision per pod template
 * (`<name>-<hash>`, renumbered when an old one comes back), pods labelled with their
 * controller-revision-hash; a StatefulSet replaces pods from the highest ordinal down to its
 * partition, one ready before the next (OrderedReady), and reports current/update revisions; a
 * DaemonSet replaces one pod at a time (maxUnavailable 1).
 */
import { templateHash } from './kubernetes-hash.js';
import { isActive, isReady, randomSuffix } from './kubernetes-pods.js';
import type { StoredObject } from './kubernetes-store.js';
import { WorkloadController, num, ownedBy, type Json, type StepResult } from './kubernetes-workload-controller.js';

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

export class StatefulSetController extends RevisionController {
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

export class DaemonSetController extends RevisionController {
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
