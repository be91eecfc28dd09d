/**
 * The controller manager of the sandbox cluster. Whoever changes a workload — a `kubectl apply`,
 * `set image`, `rollout undo`, a scenario — the controllers notice the new generation, observe it
 * after `observeDelayMs`, and carry it out one step every `stepMs`, writing what the real ones
 * write: Deployments get a ReplicaSet per pod template (revision annotations, ownerReferences to
 * the Deployment's uid, old sets scaled to 0, ScalingReplicaSet events); StatefulSets replace pods
 * from the highest ordinal with ControllerRevisions and current/update revisions; DaemonSets
 * replace one pod at a time. Deleting a workload deletes what it owns.
 */
import { DeploymentController } from './kubernetes-deployment-controller.js';
import { PodLifecycle, type ImageBehaviour } from './kubernetes-pods.js';
import { DaemonSetController, StatefulSetController } from './kubernetes-revision-controllers.js';
import type { KubeStore, StoreEvent, StoredObject } from './kubernetes-store.js';
import {
  WORKLOAD_RESOURCES,
  num,
  ownedBy,
  workloadKey,
  type RolloutTiming,
  type WorkloadController,
  type WorkloadResource,
} from './kubernetes-workload-controller.js';

export { WORKLOAD_RESOURCES, type RolloutTiming, type WorkloadResource } from './kubernetes-workload-controller.js';

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
