/** The revision a workload runs, for `iac status` to compare with the branch head. */
import type { WorkloadObject } from './types.js';

/**
 * The tag of an image reference (`registry:5000/team/app:1.2` → `1.2`), the digest when pinned
 * by digest only, or `latest` (what an untagged reference means).
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon > lastSlash) return withoutDigest.slice(colon + 1);
  if (at !== -1) return image.slice(at + 1);
  return 'latest';
}

export function workloadImages(object: WorkloadObject): string[] {
  const containers = object.spec?.template?.spec?.containers ?? [];
  return containers.map((container) => container.image ?? '').filter((image) => image !== '');
}

/**
 * The annotation's value when `annotation` is given (on the workload, else its pod template),
 * otherwise the first container's image tag; undefined when neither exists.
 */
export function runningRevision(object: WorkloadObject, annotation?: string): string | undefined {
  if (annotation !== undefined) {
    return object.metadata?.annotations?.[annotation] ?? object.spec?.template?.metadata?.annotations?.[annotation];
  }
  const image = workloadImages(object)[0];
  return image === undefined ? undefined : imageTag(image);
}
