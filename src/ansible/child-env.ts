/**
 * The environment ansible-playbook (and every local task it runs) inherits: the user's, minus what is
 * secret and not meant for it. Every local task sees this environment, so a leaked Jenkins token or
 * database password would be one `env` task away from a log.
 */
import { SECRET_NAME } from '../util/redact.js';

/**
 * Secret-looking names Ansible itself or its AWS modules read: Ansible's own settings
 * (ANSIBLE_VAULT_PASSWORD_FILE, ANSIBLE_BECOME_PASSWORD_FILE …) and the AWS SDK credential variables
 * that amazon.aws modules use on the controller.
 */
const NEEDED_BY_ANSIBLE = /^(ANSIBLE_[A-Z0-9_]+|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN)$/;

export interface ChildEnvOptions {
  /** Names that must not reach the child although they look harmless (secret extra vars travel by pipe). */
  drop?: Iterable<string>;
}

/** Names removed from `base` by {@link childEnvironment}, for the run log and tests. */
export function droppedNames(base: NodeJS.ProcessEnv, options: ChildEnvOptions = {}): string[] {
  const drop = new Set(options.drop ?? []);
  return Object.keys(base).filter((name) => {
    if (drop.has(name)) return true;
    // iac's own settings (IAC_JENKINS_TOKEN, IAC_JENKINS_USER, …) are never Ansible's business.
    if (name.startsWith('IAC_')) return true;
    return SECRET_NAME.test(name) && !NEEDED_BY_ANSIBLE.test(name);
  });
}

export function childEnvironment(base: NodeJS.ProcessEnv, options: ChildEnvOptions = {}): Record<string, string> {
  const dropped = new Set(droppedNames(base, options));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !dropped.has(name)) env[name] = value;
  }
  return env;
}
