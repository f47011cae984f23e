def usage_banner(request):
    return {}
