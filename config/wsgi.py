import logging
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()


def _report_vector_store() -> None:
    """Say at start, in the log, whether document search can use its vector store."""
    from rag.checks import embedder_check, full_text_index_check, vector_store_check

    logger = logging.getLogger("rag")
    for message in [*embedder_check(), *vector_store_check(databases=["default"]), *full_text_index_check(databases=["default"])]:
        logger.log(logging.ERROR if message.level >= 40 else logging.WARNING, "%s (%s)", message.msg, message.id)


_report_vector_store()

if os.environ.get("WEB_WARMUP", "1") != "0":
    from config.warmup import warm

    warm(application)
