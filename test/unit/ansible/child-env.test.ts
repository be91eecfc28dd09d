import { describe, expect, it } from 'vitest';
import { childEnvironment, droppedNames } from '../../../src/ansible/child-env.js';

describe('the environment ansible-playbook inherits', () => {
  const base = {
    PATH: '/usr/bin',
    HOME: '/home/me',
    SSH_AUTH_SOCK: '/tmp/agent',
    IAC_JENKINS_TOKEN: 't',
    IAC_JENKINS_USER: 'u',
    IAC_YES: '1',
    GITHUB_TOKEN: 'g',
    DB_PASSWORD: 'p',
    STRIPE_API_KEY: 'k',
    MY_PRIVATE_KEY: 'pk',
    DATABASE_URL: 'postgres://u:p@h/db',
    ANSIBLE_VAULT_PASSWORD_FILE: '/home/me/.vault-pass',
    AWS_SECRET_ACCESS_KEY: 's',
    AWS_SESSION_TOKEN: 'st',
  };

  it('drops iac\'s own variables, secret-looking names and the variables behind secret extra vars', () => {
    expect(droppedNames(base, { drop: ['DATABASE_URL'] }).sort()).toEqual(
      ['DATABASE_URL', 'DB_PASSWORD', 'GITHUB_TOKEN', 'IAC_JENKINS_TOKEN', 'IAC_JENKINS_USER', 'IAC_YES', 'MY_PRIVATE_KEY', 'STRIPE_API_KEY'].sort(),
    );
  });

  it('keeps what Ansible and its AWS modules read', () => {
    expect(childEnvironment(base, { drop: ['DATABASE_URL'] })).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/me',
      SSH_AUTH_SOCK: '/tmp/agent',
      ANSIBLE_VAULT_PASSWORD_FILE: '/home/me/.vault-pass',
      AWS_SECRET_ACCESS_KEY: 's',
      AWS_SESSION_TOKEN: 'st',
    });
  });
});
