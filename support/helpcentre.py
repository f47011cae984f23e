"""The help centre as RAG documents: published articles are SYSTEM documents of one system user.

The system user (``HELP_CENTRE_EMAIL``, no usable password, a reserved ``.invalid`` address no mail
reaches) owns every help-centre document, so RLS keeps them out of every person's own retrieval,
and only ``rag.retrieval.system_passages`` reads them: for the help pages, the deflection while a
ticket is typed, and the AI triage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from rag import retrieval as rag_retrieval
from rag import services as rag_services
from rag.errors import DocumentError

from .models import HelpArticle

logger = logging.getLogger(__name__)

HELP_CENTRE_EMAIL = "help-centre@system.invalid"
HELP_CENTRE_COLLECTION = "help-centre"


def system_owner():
    """The help centre's system user, created on first use."""
    users = get_user_model().objects
    owner = users.filter(email=HELP_CENTRE_EMAIL).first()
    if owner is not None:
        return owner
    try:
        with transaction.atomic():
            return users.create_user(HELP_CENTRE_EMAIL, None, name="Help centre", subscription_tier="ENTERPRISE")
    except IntegrityError:  # created meanwhile by another process
        return users.get(email=HELP_CENTRE_EMAIL)


def article_text(article: HelpArticle) -> str:
    return f"# {article.title}\n\n{article.body}"


def article_sync(article: HelpArticle) -> None:
    """Index a published article (replacing its previous passages) or remove an unpublished one's.

    Called by the admin's service inside the save's transaction; indexing runs on commit.
    """
    owner = system_owner()
    if article.is_published:
        document = rag_services.system_document_put(
            owner=owner, document_id=article.rag_document_id, title=article.title, text=article_text(article),
            collection=HELP_CENTRE_COLLECTION, tags=[article.language, article.category.lower()],
        )
        if article.rag_document_id != document.id:
            HelpArticle.objects.filter(pk=article.pk).update(rag_document_id=document.id)
            article.rag_document_id = document.id
    elif article.rag_document_id:
        try:
            rag_services.system_document_remove(owner=owner, document_id=article.rag_document_id)
        except DocumentError:
            logger.warning("help article %s: its document's vectors could not be deleted now", article.pk)
        HelpArticle.objects.filter(pk=article.pk).update(rag_document_id=None)
        article.rag_document_id = None


def article_unindex(article: HelpArticle) -> None:
    if article.rag_document_id:
        rag_services.system_document_remove(owner=system_owner(), document_id=article.rag_document_id)


@dataclass(frozen=True)
class HelpPassage:
    number: int
    article: HelpArticle
    heading: str
    text: str
    score: float


def help_passages(query: str, *, limit: int = 5) -> list[HelpPassage]:
    """The published articles' passages best matching ``query``, numbered from 1 (no person's data)."""
    query = (query or "").strip()
    if not query:
        return []
    owner = get_user_model().objects.filter(email=HELP_CENTRE_EMAIL).first()
    if owner is None:
        return []
    results = rag_retrieval.system_passages(owner=owner, query=query[:2000], collection=HELP_CENTRE_COLLECTION,
                                            top_k=limit)
    if not results:
        return []
    articles = {str(a.rag_document_id): a for a in HelpArticle.objects.filter(
        is_published=True, rag_document_id__in=[r.document_id for r in results])}
    passages = []
    for result in results:
        article = articles.get(result.document_id)
        if article is not None:
            passages.append(HelpPassage(number=len(passages) + 1, article=article, heading=result.heading,
                                        text=rag_retrieval.citation_snippet(result), score=result.score))
    return passages


def help_articles_for(query: str, *, limit: int = 5) -> list[HelpArticle]:
    """Distinct articles of the best passages, best first."""
    seen: dict = {}
    for passage in help_passages(query, limit=limit * 3):
        seen.setdefault(passage.article.pk, passage.article)
        if len(seen) >= limit:
            break
    return list(seen.values())
