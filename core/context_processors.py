from django.conf import settings


def navigation(request):
    """What the base layout needs on every page: the languages and the site's name."""
    return {"SITE_NAME": "cjhirashi-agents", "INVITE_ONLY": settings.INVITE_ONLY}
