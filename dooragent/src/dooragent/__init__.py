"""Justface door agent: runs beside a door and moves its lock only on the server's signed word.

No Django. See README ("Installing a door agent"), docs/door-agent.md (threat model) and
docs/door-agent.md in the package docstrings of :mod:`dooragent.commands` and :mod:`dooragent.client`.
"""

__version__ = "0.1.0"
