/**
 * Secret extra vars never touch the disk and never go on a command line. They travel to Ansible
 * through a named pipe (FIFO) in a private 0700 directory: a FIFO holds no data at rest, only kernel
 * buffers while both ends are open. (`-e @/dev/fd/N` does not work: Ansible resolves the path with
 * realpath() to `pipe:[…]` and finds nothing.) ansible-playbook is started through a few lines of Python
 * (its own interpreter) that read the JSON from stdin, create the FIFO, leave a writer process behind
 * that hands the bytes over as soon as Ansible opens the FIFO and then removes it, and exec
 * ansible-playbook with `-e @<fifo>`. The writer stays in the playbook's process group, so it ends
 * with it however the run ends.
 */

/** Placeholder in the argv the wrapper replaces with the FIFO's path. */
export const SECRET_PATH_PLACEHOLDER = '<iac-secret-vars>';

/** Bounded like any input; a pipe buffer holds 64 KiB, more would need Ansible to read in parallel. */
export const MAX_SECRET_BYTES = 60 * 1024;

/**
 * argv: [private directory, ansible-playbook path, ...its arguments]. stdin: the JSON, then end-of-file.
 * Exit 70 when the JSON did not arrive whole (iac died while sending), 127 when ansible-playbook cannot
 * be executed. The writer gives up when ansible-playbook is gone or after 10 minutes.
 */
export const SECRET_WRAPPER = [
  'import errno, os, sys, time',
  'data = b""',
  'while True:',
  '    chunk = os.read(0, 65536)',
  '    if not chunk: break',
  '    data += chunk',
  'if not data.endswith(b"\\n"):',
  '    sys.stderr.write("iac: secret extra vars incomplete\\n"); sys.exit(70)',
  'null = os.open(os.devnull, os.O_RDONLY)',
  'os.dup2(null, 0)',
  'os.close(null)',
  'fifo = os.path.join(sys.argv[1], "secret-vars.fifo")',
  'os.mkfifo(fifo, 0o600)',
  'ansible = os.getpid()',
  'child = os.fork()',
  'if child == 0:',
  '    if os.fork() != 0: os._exit(0)',
  '    try:',
  '        deadline = time.monotonic() + 600',
  '        while True:',
  '            try:',
  '                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)',
  '                break',
  '            except OSError as e:',
  '                if e.errno != errno.ENXIO or time.monotonic() > deadline: raise',
  '                os.kill(ansible, 0)',
  '                time.sleep(0.01)',
  '        os.set_blocking(fd, True)',
  '        view = memoryview(data)',
  '        while view: view = view[os.write(fd, view):]',
  '        os.close(fd)',
  '    except OSError:',
  '        pass',
  '    finally:',
  '        try: os.unlink(fifo)',
  '        except OSError: pass',
  '        os._exit(0)',
  'os.waitpid(child, 0)',
  `argv = [a.replace(${JSON.stringify(SECRET_PATH_PLACEHOLDER)}, fifo) for a in sys.argv[2:]]`,
  'try:',
  '    os.execv(argv[0], argv)',
  'except OSError as e:',
  '    sys.stderr.write("iac: cannot run %s: %s\\n" % (argv[0], e)); sys.exit(127)',
].join('\n');

/** Every string (and number) inside the secret vars, so output can be redacted of them. */
export function secretStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(secretStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(secretStrings);
  return [];
}
