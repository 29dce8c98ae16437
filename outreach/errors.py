"""Domain exceptions shared by the pure rules and the services.

Every domain error carries a stable ``code`` and a message in Japanese and English, so the web
layer can turn it into a form error or an HTTP response without knowing the rule behind it.
This module stays free of Flask: the HTTP mapping is registered elsewhere.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule was broken: carries a stable code and a Japanese and an English message."""

    default_code = "domain_error"

    def __init__(self, code: str | None = None, message_ja: str = "", message_en: str = "") -> None:
        self.code = code or self.default_code
        self.message_ja = message_ja
        self.message_en = message_en
        super().__init__(message_en or message_ja or self.code)

    def message(self, lang: str = "ja") -> str:
        """The message in ``lang`` ("ja" or "en"); falls back to the other language when one is empty."""
        if lang.lower().startswith("en"):
            return self.message_en or self.message_ja
        return self.message_ja or self.message_en

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message_en={self.message_en!r})"


class PolicyError(DomainError, ValueError):
    """A policy value is missing, of the wrong type or out of range (設定値の誤り)."""

    default_code = "policy.invalid"


class InvalidTransitionError(DomainError):
    """An application may not move from its current state to the requested one."""

    default_code = "application.invalid_transition"


class NotRenewableError(DomainError):
    """An approval without an end date (or for a service without approval periods) cannot be renewed."""

    default_code = "approval.not_renewable"


class ServiceHasNoLoansError(DomainError):
    """Loan limits were asked for a service that does not lend items (対面朗読)."""

    default_code = "loan.service_has_no_loans"
