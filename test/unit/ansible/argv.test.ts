import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ansibleEnv, ansiblePlaybookArgv, callbackPluginDir } from '../../../src/ansible/argv.js';

describe('ansiblePlaybookArgv', () => {
  it('puts typed extra vars in one JSON -e and secrets only as -e @<pipe>', () => {
    expect(
      ansiblePlaybookArgv({
        playbook: 'deploy/site.yml',
        inventory: ['inv/dev', 'extra.ini'],
        limit: 'web',
        tags: ['deploy', 'config'],
        skipTags: ['slow'],
        extraVars: { image_tag: 'abc123', replicas: 3, quote: "it's" },
        secretVarsPath: '/tmp/iac-secret-x/secret-vars.fifo',
        check: true,
        diff: true,
      }),
    ).toEqual([
      '-i', 'inv/dev', '-i', 'extra.ini',
      '--limit', 'web',
      '--tags', 'deploy,config',
      '--skip-tags', 'slow',
      '-e', '{"image_tag":"abc123","replicas":3,"quote":"it\'s"}',
      '-e', '@/tmp/iac-secret-x/secret-vars.fifo',
      '--check', '--diff',
      'deploy/site.yml',
    ]);
  });

  it('leaves out everything not asked for', () => {
    expect(ansiblePlaybookArgv({ playbook: 'site.yml', inventory: 'hosts.ini', extraVars: {}, tags: [] })).toEqual([
      '-i', 'hosts.ini', 'site.yml',
    ]);
  });
});

describe('ansibleEnv and callbackPluginDir', () => {
  it('loads the shipped callback next to the user\'s stdout callback and makes a bad inventory an error', () => {
    const env = ansibleEnv('/pkg/ansible_plugins/callback', undefined);
    expect(ansibleEnv('/pkg/cb', '/home/me/callbacks').ANSIBLE_CALLBACK_PLUGINS).toBe('/pkg/cb:/home/me/callbacks');
    expect(env).toMatchObject({
      ANSIBLE_CALLBACK_PLUGINS: '/pkg/ansible_plugins/callback',
      IAC_EVENTS_FD: '3',
      IAC_CONTROL_FD: '4',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_INVENTORY_UNPARSED_FAILED: '1',
      PYTHONUNBUFFERED: '1',
    });
    expect(env.ANSIBLE_STDOUT_CALLBACK).toBeUndefined();
  });

  it('finds the plugin folder from src/ and from a dist/ layout', () => {
    const dir = callbackPluginDir();
    expect(existsSync(join(dir, 'iac_events.py'))).toBe(true);
    const root = join(dir, '..', '..');
    expect(callbackPluginDir(pathToFileURL(join(root, 'dist', 'ansible', 'argv.js')).href)).toBe(dir);
  });
});
