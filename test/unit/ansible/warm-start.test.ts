import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { standardEntryInterpreter, treeRecords } from '../../../src/ansible/warm-start.js';

const dir = mkdtempSync(join(tmpdir(), 'iac-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o755 });
  return path;
}

// Debian's /usr/bin/ansible-playbook (ansible-core 2.14.18); pip and pipx write the same console script
// with their own interpreter line.
const CONSOLE_SCRIPT = (shebang: string): string =>
  `${shebang}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom ansible.cli.playbook import main\nif __name__ == "__main__":\n    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n    sys.exit(main())\n`;

describe('which ansible-playbook can be started ahead', () => {
  it("Ansible's console script: its interpreter line, flags and env included", () => {
    expect(standardEntryInterpreter(script('debian', CONSOLE_SCRIPT('#! /usr/bin/python3')))).toEqual(['/usr/bin/python3']);
    expect(standardEntryInterpreter(script('pipx', CONSOLE_SCRIPT('#!/home/u/.local/pipx/venvs/ansible-core/bin/python -s')))).toEqual([
      '/home/u/.local/pipx/venvs/ansible-core/bin/python',
      '-s',
    ]);
    expect(standardEntryInterpreter(script('env', CONSOLE_SCRIPT('#!/usr/bin/env python3')))).toEqual(['/usr/bin/env', 'python3']);
  });

  it('anything else is run as it is: a wrapper, a source checkout, no interpreter line, no file', () => {
    expect(standardEntryInterpreter(script('wrapper', '#!/bin/sh\nexec /usr/bin/ansible-playbook "$@"\n'))).toBeUndefined();
    expect(standardEntryInterpreter(script('checkout', '#!/usr/bin/env python\nfrom ansible.cli import CLI\ndef main(args=None):\n    PlaybookCLI.cli_executor(args)\n'))).toBeUndefined();
    expect(standardEntryInterpreter(script('bare', 'from ansible.cli.playbook import main\nmain()\n'))).toBeUndefined();
    expect(standardEntryInterpreter(join(dir, 'absent'))).toBeUndefined();
  });
});

describe('git ls-tree records, compared with the last check', () => {
  it('keeps type, id and path, drops the mode, sorted', () => {
    const out = '100644 blob 1111111111111111111111111111111111111111\tdeploy/site.yml\x00040000 tree 2222222222222222222222222222222222222222\tdeploy\x00';
    expect(treeRecords(out)).toEqual(['blob 1111111111111111111111111111111111111111\tdeploy/site.yml', 'tree 2222222222222222222222222222222222222222\tdeploy']);
    expect(treeRecords('')).toEqual([]);
  });
});
