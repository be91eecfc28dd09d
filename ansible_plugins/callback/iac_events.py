# -*- coding: utf-8 -*-
# Shipped with iac (MIT). A notification callback: ansible-playbook's stdout keeps the user's own stdout
# callback (the default one unless configured), and this plugin sends iac one compact JSON object per event
# over a private socket (the file descriptor named by IAC_EVENTS_FD), in the shape of ansible.posix.jsonl
# (`_event`, `_timestamp`, `play`, `task`, `hosts`). On top of jsonl, on purpose:
#   * failed results carry `ignore_errors` and `rescued` (a failure a block's `rescue:` handles), so iac can
#     count exactly as Ansible's PLAY RECAP does and blame only failures that stopped a host;
#   * results are trimmed like the default callback: no `invocation` below -vvv, no `_ansible_*` internals,
#     anything marked no_log censored; a `diff` is also rendered as the unified text --diff prints;
#   * totals come from Ansible's own stats (`v2_playbook_on_stats`, stats.summarize).
# Lifeline: IAC_CONTROL_FD names a socket whose other end only iac holds. When it reads end-of-file, iac has
# died (SIGKILL included), and the plugin kills its own process group so no playbook outlives iac.
# Hold: with IAC_HOLD=1 iac starts the playbook early (while Jenkins builds) and the plugin stops it at
# v2_playbook_on_start — Python, Ansible, inventory and playbook loaded, no task run — until iac writes "go"
# on the control socket; if iac closes the socket instead (an earlier step failed), the group is killed.
# Without IAC_EVENTS_FD in the environment the plugin does nothing (e.g. a user re-running a hint by hand).
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: iac_events
    type: notification
    short_description: playbook events for iac over a private socket
    description:
      - Streams playbook events as JSON lines to the file descriptor in IAC_EVENTS_FD, and stops the
        playbook's process group when the socket in IAC_CONTROL_FD reaches end-of-file.
'''

import datetime
import json
import os
import signal
import stat
import threading

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
# Bulky duplicates of stdout/stderr: not worth sending twice.
DROPPED_KEYS = frozenset(('stdout_lines', 'stderr_lines'))
# A module can return megabytes (slurp, a big stdout): every string is cut here, the full text is in
# ansible-playbook's own output (ansible.log) when the stdout callback shows it.
MAX_STRING = 64 * 1024


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _clean(value, verbosity):
    """Copy of a module result without internals; no_log parts censored, invocation only at -vvv."""
    if isinstance(value, dict):
        if value.get('_ansible_no_log'):
            kept = dict((k, value[k]) for k in ('changed', 'failed', 'skipped', 'unreachable', 'rc') if k in value)
            kept['censored'] = CENSORED
            return kept
        out = {}
        for key, item in value.items():
            if key.startswith('_ansible_') or key in DROPPED_KEYS:
                continue
            if key == 'invocation' and verbosity < 3:
                continue
            out[key] = _clean(item, verbosity)
        return out
    if isinstance(value, list):
        return [_clean(item, verbosity) for item in value]
    if isinstance(value, str) and len(value) > MAX_STRING:
        return value[:MAX_STRING] + '... [%d more characters]' % (len(value) - MAX_STRING)
    return value


def _socket_fd(name):
    """The descriptor named by environment variable `name`, if it is an open socket; the variable is
    removed so that modules and nested tools started by this playbook never see it."""
    text = os.environ.pop(name, None)
    if not text:
        return None
    try:
        fd = int(text)
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return None
        os.set_inheritable(fd, False)
        return fd
    except (ValueError, OSError):
        return None


def _remove_secret_dir(path):
    """Callbacks load after the extra vars were read: the private directory of the secret vars' named pipe
    (which never held data at rest) is no longer needed, whatever happens to iac from now on."""
    if not path:
        return
    try:
        os.unlink(os.path.join(path, 'secret-vars.fifo'))
    except OSError:
        pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _watch_lifeline(fd, go):
    """Blocks until iac's end of the control socket closes, then stops this whole process group. A line
    "go" on the socket releases a playbook started early and held at its start (see IAC_HOLD)."""
    received = b''
    try:
        while True:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            received += chunk
            if b'go\n' in received:
                go.set()
                received = b''
    except OSError:
        pass
    # iac is gone: nobody will read the outcome, and a playbook must never keep deploying unsupervised.
    os.killpg(os.getpgrp(), signal.SIGKILL)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'iac_events'
    # Loaded whenever its directory is in ANSIBLE_CALLBACK_PLUGINS, without touching the user's
    # callbacks_enabled list; inert unless iac passed the descriptors.
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self._play = None
        self._variable_manager = None
        self._failed_seen = {}
        self._lock = threading.Lock()
        self._out = None
        events_fd = _socket_fd('IAC_EVENTS_FD')
        control_fd = _socket_fd('IAC_CONTROL_FD')
        self._go = threading.Event()
        self._hold = os.environ.pop('IAC_HOLD', None) == '1' and control_fd is not None
        if control_fd is not None:
            watcher = threading.Thread(target=_watch_lifeline, args=(control_fd, self._go), name='iac-lifeline')
            watcher.daemon = True
            watcher.start()
        if events_fd is not None:
            self._out = os.fdopen(events_fd, 'w', encoding='utf-8', buffering=1)
        _remove_secret_dir(os.environ.pop('IAC_SECRET_DIR', None))

    # --- output -------------------------------------------------------------------------------------
    def _emit(self, event, payload):
        if self._out is None:
            return
        payload['_event'] = event
        payload['_timestamp'] = _now()
        line = json.dumps(payload, cls=AnsibleJSONEncoder, separators=(',', ':'), sort_keys=True)
        with self._lock:
            try:
                self._out.write(line + '\n')
                self._out.flush()
            except (OSError, ValueError):
                # iac stopped reading (it is exiting): the lifeline takes care of the rest.
                self._out = None

    def _task(self, task):
        return {'name': task.get_name(), 'id': str(task._uuid), 'path': str(task.get_path() or ''),
                'action': task.action}

    # --- playbook / play / task ---------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        if self._hold:
            # Loaded and ready, nothing run yet: wait for iac's "go" (or be killed when iac closes the socket).
            self._emit('iac_held', {'playbook': {'path': str(playbook._file_name)}})
            self._go.wait()
        self._emit('v2_playbook_on_start', {'playbook': {'path': str(playbook._file_name)}})

    def v2_playbook_on_play_start(self, play):
        self._play = {'name': play.get_name(), 'id': str(play._uuid), 'path': str(play.get_path() or '')}
        try:
            self._variable_manager = play.get_variable_manager()
        except Exception:
            self._variable_manager = None
        self._emit('v2_playbook_on_play_start', {'play': dict(self._play)})

    def v2_playbook_on_no_hosts_matched(self):
        self._emit('v2_playbook_on_no_hosts_matched', {'play': dict(self._play or {})})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit('v2_playbook_on_task_start', {'task': self._task(task), 'hosts': {}})

    def v2_playbook_on_handler_task_start(self, task):
        self._emit('v2_playbook_on_handler_task_start', {'task': self._task(task), 'hosts': {}})

    # --- per-host results ---------------------------------------------------------------------------
    def _rescued(self, result):
        """True when a block's rescue section takes over this failure. The strategy decides that before
        calling us and, for rescued failures only, stores the failed task and a fresh result object as
        the host's `ansible_failed_task` / `ansible_failed_result` (callbacks get a cleaned copy, so the
        test is: a new result object since we last looked, for this very task)."""
        manager = self._variable_manager
        if manager is None:
            return None
        try:
            host = result._host.get_name()
            facts = manager._nonpersistent_fact_cache.get(host, {})
            current = facts.get('ansible_failed_result')
            previous = self._failed_seen.get(host)
            self._failed_seen[host] = current
            failed_task = facts.get('ansible_failed_task') or {}
            return current is not None and current is not previous and failed_task.get('uuid') == result._task._uuid
        except Exception:
            return None

    def _result(self, event, result, extra, ignore_errors=None, rescued=None):
        host_result = _clean(result._result, self._display.verbosity)
        host_result.update(extra)
        host_result['action'] = result._task.action
        diff = result._result.get('diff')
        if diff and not result._result.get('_ansible_no_log'):
            try:
                text = self._get_diff(diff)
                if text:
                    host_result['diff_text'] = text
            except Exception:
                pass
        payload = {'task': self._task(result._task), 'hosts': {result._host.get_name(): host_result}}
        if ignore_errors is not None:
            payload['ignore_errors'] = bool(ignore_errors)
        if rescued is not None:
            payload['rescued'] = bool(rescued)
        self._emit(event, payload)

    def v2_runner_on_ok(self, result):
        self._result('v2_runner_on_ok', result, {})

    def v2_runner_on_failed(self, result, ignore_errors=False):
        rescued = None if ignore_errors else self._rescued(result)
        self._result('v2_runner_on_failed', result, {'failed': True}, ignore_errors=bool(ignore_errors), rescued=rescued)

    def v2_runner_on_skipped(self, result):
        self._result('v2_runner_on_skipped', result, {'skipped': True})

    def v2_runner_on_unreachable(self, result):
        ignored = bool(getattr(result._task, 'ignore_unreachable', False))
        self._result('v2_runner_on_unreachable', result, {'unreachable': True}, ignore_errors=ignored)

    # --- end ----------------------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed.keys()):
            summary[host] = stats.summarize(host)
        self._emit('v2_playbook_on_stats', {'stats': summary})
