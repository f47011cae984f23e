"""How much indexed text a user may keep: characters and passages per subscription tier.

Counted from the rows that exist (nothing new is stored): the characters of the extracted text of
the user's documents that have not failed, and their passages. It is an amount kept, not a monthly
flow: deleting documents makes room again (see docs/decisions.md). The limits per tier are
``settings.RAG_TIER_LIMITS``; a tier missing there gets FREE's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Sum
from django.db.models.functions import Coalesce, Length
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from core.tenancy import tenant

from .models import RagDocument, Status


@dataclass(frozen=True)
class Allowance:
    max_characters: int
    max_chunks: int
    used_characters: int
    used_chunks: int

    @property
    def characters_left(self) -> int:
        return max(self.max_characters - self.used_characters, 0)

    @property
    def chunks_left(self) -> int:
        return max(self.max_chunks - self.used_chunks, 0)

    def full_message(self) -> str | None:
        """What the forms say when nothing more fits, or None while there is room."""
        if self.characters_left <= 0:
            return _("Your documents already hold %(limit)s characters of text, all your plan allows. "
                     "Delete some documents to add new ones.") % {"limit": _number(self.max_characters)}
        if self.chunks_left <= 0:
            return _("Your documents already have %(limit)s passages, all your plan allows. "
                     "Delete some documents to add new ones.") % {"limit": _number(self.max_chunks)}
        return None

    def characters_message(self) -> str:
        """Why a document is refused for taking the characters past the limit."""
        return _("This document would take your documents past your plan's limit of %(limit)s characters of "
                 "text (%(left)s left). Delete some documents, then re-index this one.") % {
            "limit": _number(self.max_characters), "left": _number(self.characters_left)}

    def paste_message(self) -> str:
        """Why pasted text is refused at the form for taking the characters past the limit."""
        return _("This text would take your documents past your plan's limit of %(limit)s characters of text "
                 "(%(left)s left). Delete some documents first, or paste less.") % {
            "limit": _number(self.max_characters), "left": _number(self.characters_left)}

    def chunks_message(self) -> str:
        return _("This document would take your documents past your plan's limit of %(limit)s passages "
                 "(%(left)s left). Delete some documents, then re-index this one.") % {
            "limit": _number(self.max_chunks), "left": _number(self.chunks_left)}


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def tier_limits(tier: str | None) -> dict:
    limits = settings.RAG_TIER_LIMITS
    return limits.get(tier or "") or limits["FREE"]


def allowance_for_user(user, *, exclude_document_id=None) -> Allowance:
    """The user's limits and what their documents use now, leaving out ``exclude_document_id``
    (a document being re-indexed replaces its own text and passages)."""
    limits = tier_limits(getattr(user, "subscription_tier", None))
    with tenant(user.pk):
        documents = RagDocument.objects.filter(user_id=user.pk).exclude(status=Status.FAILED)
        if exclude_document_id is not None:
            documents = documents.exclude(pk=exclude_document_id)
        used = documents.aggregate(characters=Coalesce(Sum(Length("content")), 0),
                                   chunks=Coalesce(Sum("chunk_count"), 0))
    return Allowance(max_characters=limits["characters"], max_chunks=limits["chunks"],
                     used_characters=used["characters"], used_chunks=used["chunks"])
