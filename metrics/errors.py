"""Refusals of the metrics domain whose message may be shown to the person."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _

from core.errors import UserFacingError

from .models import KIND_TOKENS
from .plans import limit_resets_on, plan_label


class LimitExceeded(UserFacingError):
    """The monthly limit is used up: the turn must not reach a provider.

    ``message`` is rendered each time it is read, in the language active then (the request's), so
    it is worked out from the facts below rather than stored when the refusal is raised.
    """

    def __init__(self, *, kind: str, used: int, limit: int, tier: str, year: int, month: int):
        self.kind = kind
        self.used = used
        self.limit = limit
        self.tier = tier
        self.resets_on = limit_resets_on(year, month)
        super().__init__()

    @property
    def message(self) -> str:
        values = {
            "limit": formats.number_format(self.limit, force_grouping=True),
            "plan": plan_label(self.tier),
            "date": formats.date_format(self.resets_on, "MONTH_DAY_FORMAT"),
        }
        if self.kind == KIND_TOKENS:
            return _(
                "You have used all %(limit)s tokens of your %(plan)s plan this month. "
                "The limit resets on %(date)s."
            ) % values
        return _(
            "You have used all %(limit)s messages of your %(plan)s plan this month. "
            "The limit resets on %(date)s."
        ) % values

    @message.setter
    def message(self, _default) -> None:
        """``UserFacingError.__init__`` stores its default message here; the facts decide instead."""


class InvalidMonth(UserFacingError):
    """A ``?month=`` the Usage page cannot show; the message says why, in the user's language."""
