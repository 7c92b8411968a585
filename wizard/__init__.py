"""Lync Server 2013 / Skype for Business Server external authentication planner."""

__version__ = "0.1.0"
