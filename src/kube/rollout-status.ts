/**
 * kubectl's rollout judgement, one tiny pure function per kind chosen from a table — a line-by-line
 * port of k8s.io/kubectl pkg/polymorphichelpers/rollout_status.go (identical from 1.20 to today) and
 * of oc's DeploymentConfig viewer. Messages are kubectl's, byte for byte, without kubectl's trailing
 * newline (kubectl prints `message + "\n"`). Where kubectl returns an error, these throw a
 * RolloutStatusError whose message is kubectl's error text (kubectl prints it as `error: <message>`).
 */
import { RolloutError } from '../errors.js';
import type { WorkloadKind } from './workload-ref.js';
import type { Condition, WorkloadObject } from './types.js';

export interface RolloutStatus {
  message: string;
  done: boolean;
}

export type RolloutStatusErrorReason =
  | 'ProgressDeadlineExceeded'
  | 'UnsupportedStrategy'
  | 'RevisionMismatch'
  | 'InvalidRevision'
  | 'RolloutCancelled'
  | 'Paused'
  | 'ManualUpdateRequired';

/**
 * A state kubectl itself reports as an error (exit 1); for iac the rollout has failed (exit 40). No
 * hint here: the judge knows no cluster target; the watcher builds hints (kubectl-argv.ts).
 */
export class RolloutStatusError extends RolloutError {
  readonly reason: RolloutStatusErrorReason;

  constructor(reason: RolloutStatusErrorReason, message: string, hint?: string) {
    super('failed', message, hint === undefined ? {} : { hint });
    this.reason = reason;
  }
}

export type StatusViewer = (object: WorkloadObject, revision?: number) => RolloutStatus;

const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';

/** Go's %q for the names kubectl quotes (JSON string escaping agrees with Go's for these). */
function quote(text: string): string {
  return JSON.stringify(text);
}

function firstCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return (conditions ?? []).find((condition) => condition.type === type);
}

function waiting(message: string): RolloutStatus {
  return { message, done: false };
}

export const deploymentStatus: StatusViewer = (object, revision = 0) => {
  const name = object.metadata?.name ?? '';
  const spec = object.spec ?? {};
  const status = object.status ?? {};
  if (revision > 0) {
    const text = object.metadata?.annotations?.[REVISION_ANNOTATION];
    const running = text === undefined ? 0 : Number(text);
    if (!Number.isInteger(running)) {
      throw new RolloutStatusError(
        'InvalidRevision',
        `cannot get the revision of deployment ${quote(name)}: strconv.ParseInt: parsing ${quote(text ?? '')}: invalid syntax`,
      );
    }
    if (revision !== running) {
      throw new RolloutStatusError(
        'RevisionMismatch',
        `desired revision (${revision}) is different from the running revision (${running})`,
      );
    }
  }
  if ((object.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return waiting('Waiting for deployment spec update to be observed...');
  }
  const progressing = firstCondition(status.conditions, 'Progressing');
  if (progressing?.reason === TIMED_OUT_REASON) {
    throw new RolloutStatusError(
      'ProgressDeadlineExceeded',
      `deployment ${quote(name)} exceeded its progress deadline`,
    );
  }
  const updated = status.updatedReplicas ?? 0;
  if (spec.replicas !== undefined && spec.replicas !== null && updated < spec.replicas) {
    return waiting(
      `Waiting for deployment ${quote(name)} rollout to finish: ${updated} out of ${spec.replicas} new replicas have been updated...`,
    );
  }
  const replicas = status.replicas ?? 0;
  if (replicas > updated) {
    return waiting(
      `Waiting for deployment ${quote(name)} rollout to finish: ${replicas - updated} old replicas are pending termination...`,
    );
  }
  const available = status.availableReplicas ?? 0;
  if (available < updated) {
    return waiting(
      `Waiting for deployment ${quote(name)} rollout to finish: ${available} of ${updated} updated replicas are available...`,
    );
  }
  return { message: `deployment ${quote(name)} successfully rolled out`, done: true };
};

function requireRollingUpdate(object: WorkloadObject): void {
  if (object.spec?.updateStrategy?.type !== 'RollingUpdate') {
    throw new RolloutStatusError(
      'UnsupportedStrategy',
      'rollout status is only available for RollingUpdate strategy type',
    );
  }
}

export const daemonSetStatus: StatusViewer = (object) => {
  requireRollingUpdate(object);
  const name = object.metadata?.name ?? '';
  const status = object.status ?? {};
  if ((object.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return waiting('Waiting for daemon set spec update to be observed...');
  }
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  if (updated < desired) {
    return waiting(
      `Waiting for daemon set ${quote(name)} rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
    );
  }
  const available = status.numberAvailable ?? 0;
  if (available < desired) {
    return waiting(
      `Waiting for daemon set ${quote(name)} rollout to finish: ${available} of ${desired} updated pods are available...`,
    );
  }
  return { message: `daemon set ${quote(name)} successfully rolled out`, done: true };
};

export const statefulSetStatus: StatusViewer = (object) => {
  requireRollingUpdate(object);
  const spec = object.spec ?? {};
  const status = object.status ?? {};
  const observed = status.observedGeneration ?? 0;
  if (observed === 0 || (object.metadata?.generation ?? 0) > observed) {
    return waiting('Waiting for statefulset spec update to be observed...');
  }
  const ready = status.readyReplicas ?? 0;
  if (spec.replicas !== undefined && spec.replicas !== null && ready < spec.replicas) {
    return waiting(`Waiting for ${spec.replicas - ready} pods to be ready...`);
  }
  const updated = status.updatedReplicas ?? 0;
  const rollingUpdate = spec.updateStrategy?.rollingUpdate;
  if (rollingUpdate !== undefined && rollingUpdate !== null) {
    const partition = rollingUpdate.partition;
    if (spec.replicas !== undefined && spec.replicas !== null && partition !== undefined && partition !== null) {
      if (updated < spec.replicas - partition) {
        return waiting(
          `Waiting for partitioned roll out to finish: ${updated} out of ${spec.replicas - partition} new pods have been updated...`,
        );
      }
    }
    return { message: `partitioned roll out complete: ${updated} new pods have been updated...`, done: true };
  }
  if (status.updateRevision !== status.currentRevision) {
    return waiting(
      `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision ?? ''}...`,
    );
  }
  return {
    message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision ?? ''}...`,
    done: true,
  };
};

/** oc's DeploymentConfigStatusViewer (openshift/oc pkg/helpers/originpolymorphichelpers/deploymentconfigs/status.go). */
export const deploymentConfigStatus: StatusViewer = (object, revision = 0) => {
  const name = object.metadata?.name ?? '';
  const spec = object.spec ?? {};
  const status = object.status ?? {};
  const latest = status.latestVersion ?? 0;
  if (latest === 0) {
    const triggers = spec.triggers ?? [];
    if (triggers.some((trigger) => trigger.type === 'ImageChange')) {
      return waiting(`Deployment config ${quote(name)} waiting on image update`);
    }
    if (triggers.length === 0) {
      throw new RolloutStatusError(
        'ManualUpdateRequired',
        `Deployment config ${quote(name)} waiting on manual update (use 'oc rollout latest ${name}')`,
      );
    }
  }
  if (revision > 0 && latest !== revision) {
    throw new RolloutStatusError(
      'RevisionMismatch',
      `desired revision (${revision}) is different from the running revision (${latest})`,
    );
  }
  const progressing = firstCondition(status.conditions, 'Progressing');
  if ((object.metadata?.generation ?? 0) <= (status.observedGeneration ?? 0)) {
    switch (progressing?.reason) {
      case 'NewReplicationControllerAvailable':
        return { message: progressing.message ?? '', done: true };
      case TIMED_OUT_REASON:
        throw new RolloutStatusError('ProgressDeadlineExceeded', progressing.message ?? '');
      case 'RolloutCancelled':
        throw new RolloutStatusError('RolloutCancelled', progressing.message ?? '');
      case 'DeploymentConfigPaused':
        throw new RolloutStatusError(
          'Paused',
          `Deployment config ${quote(name)} is paused. Resume to continue watching the status of the rollout.`,
        );
    }
    const replicas = spec.replicas ?? 0;
    const updated = status.updatedReplicas ?? 0;
    if (updated < replicas) {
      return waiting(`Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`);
    }
    if ((status.replicas ?? 0) > updated) {
      return waiting(`Waiting for rollout to finish: ${(status.replicas ?? 0) - updated} old replicas are pending termination...`);
    }
    const available = status.availableReplicas ?? 0;
    if (available < updated) {
      return waiting(`Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
    }
  }
  return waiting('Waiting for latest deployment config spec to be observed by the controller loop...');
};

export const STATUS_VIEWERS: Record<WorkloadKind, StatusViewer> = {
  deployment: deploymentStatus,
  statefulset: statefulSetStatus,
  daemonset: daemonSetStatus,
  deploymentconfig: deploymentConfigStatus,
};

/** kubectl's verdict for one object: `{ message, done }`, or a thrown RolloutStatusError. */
export function rolloutStatus(kind: WorkloadKind, object: WorkloadObject, revision?: number): RolloutStatus {
  return STATUS_VIEWERS[kind](object, revision);
}
