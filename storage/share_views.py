"""Share-link pages: the public side at ``/s/<token>/`` (no sign-in; ``storage.shares`` decides) and
the owner's side under ``/files/`` (make and revoke links, the access log of a file and of a link).

Every public response carries ``X-Robots-Tag: noindex``, ``Referrer-Policy: no-referrer`` and
``Cache-Control: private, no-store``; the pages also say ``<meta name="robots" content="noindex">``.
An unknown, malformed or revoked token is a 404; an expired link a 410 saying so; a file in the
trash, expired or quarantined a 404 through every link.
"""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.sessions import client_ip
from core.crypto import token_digest
from core.errors import UserFacingError
from core.params import query_page
from core.ratelimit import rate_limited
from core.tenancy import tenant

from . import shares
from .access import access_record
from .models import FileAccessLog, FileAction, FileShare, ShareType, StorageFile, StorageFolder
from .serving import STREAM_CHUNK_BYTES, file_response, text_head
from .uploads import IMAGE_TYPES, INLINE_TYPES, TEXT_TYPES

LOG_PAGE_SIZE = 50
LISTING_PAGE_SIZE = 50
TEXT_PREVIEW_BYTES = 100 * 1024
NEW_LINK_SESSION_KEY = "shares:new-link"


# --- public side ---------------------------------------------------------------------------------------


def _public(view):
    """Headers of every share-link response: not indexed, no referrer, not cached."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            response = render(request, "storage/share_gone.html", {"reason": "missing"}, status=404)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "no-referrer"
        patch_cache_control(response, private=True, no_store=True)
        return response

    return wrapped


def _open_share(request, token: str) -> FileShare:
    """The link, open, or the page that says why not (raised as an exception carrying a response)."""
    share = shares.share_lookup(token)
    if share is None:
        raise Http404
    state = shares.share_state(share)
    if state == "revoked":
        raise Http404
    if state == "expired":
        raise _Refusal(render(request, "storage/share_gone.html", {"reason": "expired"}, status=410))
    return share


class _Refusal(Exception):
    def __init__(self, response):
        self.response = response


def _refusals(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _Refusal as refusal:
            return refusal.response

    return wrapped


def _target_file(share: FileShare, file_id=None) -> StorageFile:
    """The live file the request names through ``share`` (the link's own file, or one below its folder)."""
    files = shares.shared_files(share)
    if share.file_id is not None:
        if file_id is not None and str(file_id) != str(share.file_id):
            raise Http404
        file = files.first()
    else:
        file = files.filter(pk=file_id).first() if file_id is not None else None
    if file is None:
        raise Http404
    return file


def _password_page(request, share: FileShare, *, error: str = "", status: int = 200, retry_after: int = 0):
    response = render(request, "storage/share_password.html", {
        "token_url": request.path, "error": error, "min_length": shares.password_min_length(),
    }, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


# The password form posts from a page with ``Referrer-Policy: no-referrer``, for which browsers send
# ``Origin: null``: Django's CSRF check refuses that. The form is exempt, which costs nothing: a forged
# post could only unlock a link whose password the forger already knows (in the forger's own session
# cookie, which SameSite=Lax keeps off cross-site posts anyway), and wrong guesses are throttled per
# link and per address whoever sends them.
@csrf_exempt
@_public
@_refusals
@require_http_methods(["GET", "POST"])
def share_open(request, token):
    share = _open_share(request, token)
    with tenant(share.user_id):
        if request.method == "POST" and share.share_type != ShareType.PASSWORD:
            return redirect(request.path)  # nothing to unlock
        if request.method == "POST":
            try:
                shares.share_unlock(share=share, password=request.POST.get("password", ""), session=request.session,
                                    request=request, ip=client_ip(request))
            except shares.Throttled as exc:
                return _password_page(request, share, error=exc.message, status=429, retry_after=exc.retry_after)
            except shares.WrongPassword as exc:
                return _password_page(request, share, error=exc.message, status=403)
            return redirect(request.path)
        if not shares.is_unlocked(request.session, share):
            return _password_page(request, share)
        if share.file_id is not None:
            return _file_page(request, share)
        return _folder_page(request, share)


def _shared_text(file: StorageFile) -> str:
    head = text_head(file, TEXT_PREVIEW_BYTES)
    if head is None:
        return _("The preview could not be read from the storage. Try again later.")
    return head[0] + ("\n…" if head[1] else "")


def _file_page(request, share: FileShare):
    file = _target_file(share)
    access_record(file, FileAction.VIEW, request, share=share)
    left = shares.downloads_left(share)
    preview = ""
    if share.allow_view:
        if file.mime_type in IMAGE_TYPES:
            preview = "image"
        elif file.mime_type == "application/pdf":
            preview = "pdf"
        elif file.mime_type in TEXT_TYPES:
            preview = "text"
    return render(request, "storage/share_file.html", {
        "share": share, "file": file, "token": share_token_of(request), "preview": preview,
        "text": _shared_text(file) if preview == "text" else "",
        "can_download": share.allow_download and left != 0, "downloads_left": left,
    })


def share_token_of(request) -> str:
    return request.resolver_match.kwargs["token"]


def _folder_page(request, share: FileShare):
    folder = share.folder
    files = shares.shared_files(share).select_related("folder").order_by("folder__path", "filename", "id")
    page = Paginator(files, LISTING_PAGE_SIZE).get_page(query_page(request))
    rows = []
    for file in page.object_list:
        relative = file.folder.path[len(folder.path):].strip("/") if file.folder_id != folder.pk else ""
        rows.append({"file": file, "where": relative, "viewable": share.allow_view and file.mime_type in INLINE_TYPES})
    if page.number == 1:
        # The folder was opened: one row on its first file, so the owner sees visits of folder links too.
        first = next((row["file"] for row in rows), None)
        if first is not None:
            access_record(first, FileAction.VIEW, request, share=share)
    left = shares.downloads_left(share)
    return render(request, "storage/share_folder.html", {
        "share": share, "folder": folder, "page": page, "rows": rows, "token": share_token_of(request),
        "can_download": share.allow_download and left != 0, "downloads_left": left,
    })


def _unlocked_or_refused(request, share: FileShare) -> None:
    if not shares.is_unlocked(request.session, share):
        raise _Refusal(render(request, "storage/share_gone.html", {"reason": "locked", "open_url": reverse(
            "shares:open", args=[share_token_of(request)])}, status=403))


@_public
@_refusals
@require_http_methods(["GET"])
@rate_limited("share_downloads", methods=("GET",), key=lambda request, token, file_id=None: f"{client_ip(request)}:{token_digest(token)[:16]}")
def share_download(request, token, file_id=None):
    share = _open_share(request, token)
    with tenant(share.user_id):
        _unlocked_or_refused(request, share)
        file = _target_file(share, file_id)
        if not share.allow_download:
            return render(request, "storage/share_gone.html", {"reason": "no_download"}, status=403)
        if not shares.download_reserve(share):
            return render(request, "storage/share_gone.html", {"reason": "limit"}, status=410)
        access_record(file, FileAction.DOWNLOAD, request, share=share)
    # A counted download is sent whole: a range would make "completed" ambiguous.
    request.META.pop("HTTP_RANGE", None)
    response = file_response(request, file, inline=False)
    response["Accept-Ranges"] = "none"
    _count_on_close(response, share)
    return response


def _count_on_close(response, share: FileShare) -> None:
    """Give the reservation back unless the response's last byte went out before it was closed."""
    finished = []
    # Replacing the content turns off the WSGI server's sendfile for this response (Django hands it
    # the file only when the content is the file itself): the bytes go through ``pieces`` so that its
    # end can be seen. Read in large pieces (FileResponse's own reads take ``block_size`` each time).
    response.block_size = STREAM_CHUNK_BYTES

    def pieces(chunks):
        yield from chunks
        finished.append(True)

    response.streaming_content = pieces(response.streaming_content)
    share_id, owner_id = share.pk, share.user_id

    def release_unless_finished():
        if not finished:
            shares.download_release(share_id, owner_id)

    response._resource_closers.append(release_unless_finished)


@_public
@_refusals
@require_http_methods(["GET"])
def share_preview(request, token, file_id=None):
    share = _open_share(request, token)
    with tenant(share.user_id):
        _unlocked_or_refused(request, share)
        file = _target_file(share, file_id)
        if not share.allow_view:
            return render(request, "storage/share_gone.html", {"reason": "no_view"}, status=403)
        if file.mime_type not in INLINE_TYPES:
            raise Http404
        access_record(file, FileAction.PREVIEW, request, share=share)
    return file_response(request, file, inline=True)


# --- owner side: making and revoking links ----------------------------------------------------------------


class ShareForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Password (optional)"), required=False, strip=False, max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Whoever opens the link must type it before seeing anything."),
    )
    expires_at = forms.DateTimeField(
        label=gettext_lazy("Expires"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    max_downloads = forms.IntegerField(
        label=gettext_lazy("Download limit (optional)"), required=False, min_value=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    allow_view = forms.BooleanField(label=gettext_lazy("Can be viewed in the browser"), required=False, initial=True)
    allow_download = forms.BooleanField(label=gettext_lazy("Can be downloaded"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "share-%s")  # unique on the file page, next to the file manager's forms
        super().__init__(*args, **kwargs)
        self.fields["max_downloads"].validators.append(_max_downloads_validator)
        self.fields["expires_at"].help_text = _("Empty: in %(days)s days. At most %(max)s days from now.") % {
            "days": shares.default_days(), "max": shares.max_days()}
        if not self.is_bound:
            self.initial.setdefault("expires_at", timezone.localtime(shares.expiry_for(None)).strftime("%Y-%m-%dT%H:%M"))

    def clean(self):
        data = super().clean()
        if "allow_view" in data and "allow_download" in data and not data["allow_view"] and not data["allow_download"]:
            raise forms.ValidationError(_("A link must allow viewing, downloading or both."))
        return data


def _max_downloads_validator(value):
    if value is not None and value > shares.max_downloads_limit():
        raise forms.ValidationError(_("The download limit must be a whole number from 1 to %(limit)s.")
                                    % {"limit": shares.max_downloads_limit()})


def _owned_file(user, file_id) -> StorageFile:
    with tenant(user.id):
        file = StorageFile.objects.filter(pk=file_id, user_id=user.id, deleted_at__isnull=True).first()
    if file is None:
        raise Http404
    return file


def _owned_folder(user, folder_id) -> StorageFolder:
    with tenant(user.id):
        folder = StorageFolder.objects.filter(pk=folder_id, user_id=user.id).first()
    if folder is None:
        raise Http404
    return folder


def _links_page(request, *, file=None, folder=None, form=None, status=200):
    with tenant(request.user.id):
        links = list(shares.shares_of(request.user, file=file, folder=folder))
    new_link = request.session.pop(NEW_LINK_SESSION_KEY, None)
    if new_link and new_link.get("share") not in {str(link.pk) for link in links}:
        new_link = None
    return render(request, "storage/share_links.html", {
        "file": file, "folder": folder, "links": links, "share_form": form or ShareForm(),
        "new_link": new_link,
    }, status=status)


def _create(request, *, file=None, folder=None):
    form = ShareForm(request.POST)
    if not form.is_valid():
        return _links_page(request, file=file, folder=folder, form=form, status=400)
    data = form.cleaned_data
    expires_at = data["expires_at"]  # aware, in the current time zone (USE_TZ)
    try:
        created = shares.share_create(
            user=request.user, file=file, folder=folder, password=data["password"], expires_at=expires_at,
            max_downloads=data["max_downloads"], allow_view=data["allow_view"], allow_download=data["allow_download"],
            request=request,
        )
    except UserFacingError as exc:
        form.add_error(None, exc.message)
        return _links_page(request, file=file, folder=folder, form=form, status=400)
    request.session[NEW_LINK_SESSION_KEY] = {
        "share": str(created.share.pk), "url": request.build_absolute_uri(reverse("shares:open", args=[created.token])),
    }
    messages.success(request, _("Link created. Copy it now: it is shown only once."))
    target = reverse("shares_owner:file_links", args=[file.pk]) if file else reverse("shares_owner:folder_links", args=[folder.pk])
    return redirect(target)


@login_required
@require_http_methods(["GET", "POST"])
def file_links(request, file_id):
    file = _owned_file(request.user, file_id)
    if request.method == "POST":
        return _create(request, file=file)
    return _links_page(request, file=file)


@login_required
@require_http_methods(["GET", "POST"])
def folder_links(request, folder_id):
    folder = _owned_folder(request.user, folder_id)
    if request.method == "POST":
        return _create(request, folder=folder)
    return _links_page(request, folder=folder)


@login_required
@require_POST
def link_revoke(request, share_id):
    share = shares.share_for_owner(request.user, share_id)
    if share is None:
        raise Http404
    shares.share_revoke(user=request.user, share=share, request=request)
    messages.success(request, _("Link revoked: it no longer opens anything."))
    if share.file_id:
        return redirect("shares_owner:file_links", share.file_id)
    return redirect("shares_owner:folder_links", share.folder_id)


# --- owner side: access logs ----------------------------------------------------------------------------


def _log_page(request, logs, **context):
    page = Paginator(logs.select_related("user", "share", "file").order_by("-timestamp", "-id"),
                     LOG_PAGE_SIZE).get_page(query_page(request))
    return render(request, "storage/logs.html", {"page": page, "entries": list(page.object_list), **context})


@login_required
@require_GET
def file_log(request, file_id):
    with tenant(request.user.id):
        file = StorageFile.objects.filter(pk=file_id, user_id=request.user.id).first()
        if file is None:
            raise Http404
        return _log_page(request, FileAccessLog.objects.filter(file=file, owner_id=request.user.id), file=file)


@login_required
@require_GET
def link_log(request, share_id):
    share = shares.share_for_owner(request.user, share_id)
    if share is None:
        raise Http404
    with tenant(request.user.id):
        return _log_page(request, FileAccessLog.objects.filter(share=share, owner_id=request.user.id), share=share,
                         file=share.file, folder=share.folder)
