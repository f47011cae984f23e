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


class MappingMismatch(ImportRefused):
    """The mapping names columns the CSV does not have; carries the file's header and first rows."""

    def __init__(self, message, *, columns: list[str], sample: list[list[str]]):
        super().__init__(message)
        self.columns = columns
        self.sample = sample
