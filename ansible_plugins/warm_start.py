# -*- coding: utf-8 -*-
# Shipped with iac (MIT). `ansible-playbook`, started before its arguments are known.
#
# Usage: <the interpreter of ansible-playbook's #! line> warm_start.py <path of ansible-playbook>
#
# Importing Ansible is most of a `--syntax-check` (~0.5 s of ~0.6 s), and `iac up` learns which check it
# needs only ~0.3 s after it starts. So iac starts this first: it imports what ansible-playbook imports, in
# the directory and environment the check will have, then reads one JSON line on stdin — the arguments
# after `ansible-playbook` — and runs Ansible's own entry point exactly as the installed script does
# (`from ansible.cli.playbook import main; sys.exit(main())`). End of input instead of a line: not needed,
# exit 0. Before handing over to Ansible it writes "started" on fd 3, so iac can tell a failure here (it
# then runs ansible-playbook itself) from Ansible's own answer.
import atexit
import json
import os
import sys


def main():
    script = sys.argv[1]
    # As when the kernel runs the script: its own directory first on the module path, not this one's.
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    from ansible.cli.playbook import main as playbook_main
    try:
        # Imported by every playbook run's action plugins (~0.1 s): now, while iac is still deciding.
        import ansible.executor.module_common  # noqa: F401
    except Exception:
        pass
    line = sys.stdin.readline()
    if not line:
        return 0
    args = json.loads(line)
    # The check's stdin is /dev/null, as when iac runs ansible-playbook itself.
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    with os.fdopen(3, 'w') as handshake:
        handshake.write('started\n')
    sys.argv = [script] + args
    try:
        code = playbook_main()
    except SystemExit as stop:
        code = stop.code
    # Ansible's answer is final: exit as the script would, minus the interpreter's teardown of every
    # module Ansible loaded (~0.1 s the push would wait for). Exit handlers (Ansible removes its local
    # temporary directory in one) still run; output is flushed first.
    atexit._run_exitfuncs()
    if code is not None and not isinstance(code, int):
        sys.stderr.write('%s\n' % (code,))
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == '__main__':
    sys.exit(main())
