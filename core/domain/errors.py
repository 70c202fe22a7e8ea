"""The domain's error hierarchy.

Every rule the domain keeps raises a specific subclass of :class:`DomainError`, so an
inbound adapter can map the whole family to a transport answer in one place (a 4xx
over HTTP, a short message in the bot) without ever leaking a stack trace.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request. The message is safe to show to a user."""


class InvalidMoney(DomainError):
    """An amount or a currency code is malformed (floats, NaN, bad code, mixed currencies)."""


class InvalidTier(DomainError):
    """A tier's number, price or duration breaks the rules."""


class InvalidChannel(DomainError):
    """A channel's chats, tiers or donation settings break the rules."""


class InvalidToken(DomainError):
    """An offer token is malformed, tampered with or names something that no longer exists."""


class InvalidOrderId(DomainError):
    """An order id is malformed or its MAC tag does not match: it was guessed or edited."""


class InvalidTransition(DomainError):
    """A state machine was asked to move somewhere its table does not allow."""


class InvalidAmount(DomainError):
    """A donation amount is outside the channel's bounds or has more than two decimals."""


class NotAuthorized(DomainError):
    """The caller may not do this (e.g. someone other than the owner edits a channel)."""


class MissingRights(DomainError):
    """The owner or the bot lacks the rights the operation needs in a chat."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.missing = missing


class ClosedToSellers(DomainError):
    """This PayGate lets only the sellers its operator listed own channels."""


class UnknownSellerRequest(DomainError):
    """Nobody with that Telegram user id asked to sell here."""


class AlreadyRegistered(DomainError):
    """A chat is already part of a registered channel pair."""


class UnknownChannel(DomainError):
    """No registered channel matches."""


class SalesPaused(DomainError):
    """The channel is not selling right now (the bot lost its rights, or posting failed)."""


class LifetimeHeld(DomainError):
    """The person already has lifetime access: there is nothing to renew."""


class SeasonOver(DomainError):
    """A season tier is no longer sold: its end date has passed."""
