"""Dutch names of codes for the templates: the ``dutch`` and ``route_name`` filters.

The names themselves live in :mod:`gateway.web.vocabulary` (one place); this module makes
them reachable from Jinja, so a template writes ``{{ item.purpose | dutch("purpose") }}``
and never prints a code. ``ACTION_NAMES``, ``DECISION_NAMES`` and ``action_name`` stay for
the pages that already use them.
"""

from __future__ import annotations

from . import vocabulary

ACTION_NAMES = vocabulary.ACTIONS
DECISION_NAMES = vocabulary.DECISIONS


def action_name(action: str) -> str:
    return vocabulary.action(action)


def dutch(code: str | None, kind: str) -> str:
    """The ``dutch`` filter: the Dutch name of ``code`` of ``kind`` (see ``vocabulary.KINDS``)."""
    return vocabulary.name(kind, code)


def register_filters(bp) -> None:
    """Make the filters available to every template of the app that registers ``bp``."""
    bp.add_app_template_filter(dutch, "dutch")
    bp.add_app_template_filter(vocabulary.route, "route_name")
    bp.add_app_template_filter(action_name, "action_name")
