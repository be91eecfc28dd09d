# -*- coding: utf-8 -*-
# Shipped with iac (MIT). A stdout callback that prints one compact JSON object per line, flushed per
# event, in the shape of ansible.posix.jsonl (`_event`, `_timestamp`, `play`, `task`, `hosts`) so it needs
# no collection. Differences from ansible.posix.jsonl, on purpose:
#   * failed results carry `ignore_errors` (jsonl drops it, so an ignored failure looked like a real one);
#   * `v2_playbook_on_start` and `v2_playbook_on_no_hosts_matched` are reported;
#   * results are trimmed like the default callback: no `invocation` (module args) below -vvv, no
#     `_ansible_*` internals, and anything marked no_log is censored.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = '''
    name: iac_jsonl
    type: stdout
    short_description: one JSON object per event, for iac
    description:
      - Streams playbook events as JSON lines (ansible.posix.jsonl shape, plus ignore_errors).
'''

import datetime
import json
import sys

from ansible.parsing.ajson import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase

CENSORED = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
# Bulky duplicates of stdout/stderr: not worth sending twice.
DROPPED_KEYS = frozenset(('stdout_lines', 'stderr_lines'))


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
    return value


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'iac_jsonl'

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display)
        self._play = None

    # --- output -------------------------------------------------------------------------------------
    def _emit(self, event, payload):
        payload['_event'] = event
        payload['_timestamp'] = _now()
        line = json.dumps(payload, cls=AnsibleJSONEncoder, separators=(',', ':'), sort_keys=True)
        # Write straight to stdout and flush so every event reaches the reader as it happens.
        sys.stdout.write(line + '\n')
        sys.stdout.flush()

    def _task(self, task):
        return {'name': task.get_name(), 'id': str(task._uuid), 'path': str(task.get_path() or ''),
                'action': task.action}

    # --- playbook / play / task ---------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self._emit('v2_playbook_on_start', {'playbook': {'path': str(playbook._file_name)}})

    def v2_playbook_on_play_start(self, play):
        self._play = {'name': play.get_name(), 'id': str(play._uuid), 'path': str(play.get_path() or '')}
        self._emit('v2_playbook_on_play_start', {'play': dict(self._play)})

    def v2_playbook_on_no_hosts_matched(self):
        self._emit('v2_playbook_on_no_hosts_matched', {'play': dict(self._play or {})})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._emit('v2_playbook_on_task_start', {'task': self._task(task), 'hosts': {}})

    def v2_playbook_on_handler_task_start(self, task):
        self._emit('v2_playbook_on_handler_task_start', {'task': self._task(task), 'hosts': {}})

    # --- per-host results ---------------------------------------------------------------------------
    def _result(self, event, result, extra, ignore_errors=None):
        # ignore_errors is only meaningful for failures; the strategy passes it as a keyword there.
        host_result = _clean(result._result, self._display.verbosity)
        host_result.update(extra)
        host_result['action'] = result._task.action
        payload = {'task': self._task(result._task), 'hosts': {result._host.get_name(): host_result}}
        if ignore_errors is not None:
            payload['ignore_errors'] = bool(ignore_errors)
        self._emit(event, payload)

    def v2_runner_on_ok(self, result):
        self._result('v2_runner_on_ok', result, {})

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result('v2_runner_on_failed', result, {'failed': True}, ignore_errors=bool(ignore_errors))

    def v2_runner_on_skipped(self, result):
        self._result('v2_runner_on_skipped', result, {'skipped': True})

    def v2_runner_on_unreachable(self, result):
        self._result('v2_runner_on_unreachable', result, {'unreachable': True})

    # --- end ----------------------------------------------------------------------------------------
    def v2_playbook_on_stats(self, stats):
        summary = {}
        for host in sorted(stats.processed.keys()):
            summary[host] = stats.summarize(host)
        self._emit('v2_playbook_on_stats', {'stats': summary})
