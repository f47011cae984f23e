"""Refusals of the finance domain, shown as they are."""

from core.errors import UserFacingError


class FinanceError(UserFacingError):
    """A finance request that cannot be done as asked."""


class MoneyError(FinanceError):
    """An amount, currency or rate that is not acceptable."""


class PlanError(FinanceError):
    """An amortization or payoff plan that cannot be computed (it would never end, no term)."""


class ImportRefused(FinanceError):
    """A file that cannot be imported at all (too big, not text, no columns)."""
