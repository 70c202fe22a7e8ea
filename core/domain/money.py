"""Money: a Decimal amount with its currency, never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import attrs

from core.domain.errors import InvalidMoney, Why

_CURRENCY = re.compile(r"\A[A-Z0-9]{2,12}\Z")


def _currency(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidMoney(Why.CURRENCY_NOT_TEXT)
    code = value.strip().upper()
    if not _CURRENCY.match(code):
        raise InvalidMoney(Why.CURRENCY_CODE, given=value)
    return code


def _amount(value: object) -> Decimal:
    # bool is an int subclass and float is how money gets lost: refuse both.
    if isinstance(value, (bool, float)):
        raise InvalidMoney(Why.AMOUNT_FLOAT)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | str):
        try:
            amount = Decimal(value)
        except InvalidOperation as exc:
            raise InvalidMoney(Why.AMOUNT_MALFORMED, given=value) from exc
    else:
        raise InvalidMoney(Why.AMOUNT_MALFORMED, given=value)
    if not amount.is_finite():
        raise InvalidMoney(Why.AMOUNT_INFINITE)
    return amount


@attrs.frozen
class Money:
    """An amount in one currency. Arithmetic across currencies is refused."""

    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(converter=_currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(amount, currency)

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise InvalidMoney(Why.CURRENCIES_MIXED, first=self.currency, second=other.currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def same_value(self, other: Money) -> bool:
        """Equal amounts in the same currency, whatever the scale (10 == 10.00)."""
        return self.currency == other.currency and self.amount == other.amount

    def scaled(self, factor: Decimal) -> Money:
        return Money(self.amount * factor, self.currency)

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def decimal_places(self) -> int:
        exponent = self.amount.normalize().as_tuple().exponent
        assert isinstance(exponent, int)  # finite by construction
        return max(0, -exponent)

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"
