"""Pages of the health record under /health/. Thin: form → one service → redirect/render.

Every view goes through ``health_page``: signed in, dates and times in the owner's time zone, and
``Cache-Control: no-store`` so no browser or proxy keeps a copy of a health page.
"""

from __future__ import annotations

import functools
import json
from collections import OrderedDict
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import UserFacingError
from core.params import query_page
from core.rowhtml import kept_fragment, page_of

from . import adherence, conf, exports, fhir, measurements, selectors, services, units
from . import rows as health_rows
from .forms import (
    AllergyForm,
    AppointmentForm,
    ConditionForm,
    ContactForm,
    DoseForm,
    InsuranceForm,
    MeasurementForm,
    MedicationForm,
    ProfileForm,
)
from .models import Frequency, HealthMeasurement

ENTRY_FORMS = {"emergency_contacts": ContactForm, "insurance_info": InsuranceForm}
LIST_LIMIT = 500  # rows on a list page; the CSV and the FHIR export carry everything


def no_store(response):
    patch_cache_control(response, no_store=True, no_cache=True, must_revalidate=True, private=True, max_age=0)
    response["Pragma"] = "no-cache"
    return response


def health_page(view):
    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        with timezone.override(selectors.zone_of(request.user)):
            try:
                response = view(request, *args, **kwargs)
            except Http404 as exc:  # the site's 404 page, with the same headers as every health page
                response = response_for_exception(request, exc)
        return no_store(response)

    return wrapper


_TABS_KEPT = 64
_TABS: OrderedDict = OrderedDict()  # (URL configuration, script prefix, language, path) → health/_tabs.html, rendered


def _tabs_html(request) -> str:
    """health/_tabs.html for this page, rendered once per URL configuration, script prefix, language
    and path (eight links, their names and the current one are the same for everyone)."""
    return kept_fragment(_TABS, request, lambda: render_to_string("health/_tabs.html", {"request": request}), kept=_TABS_KEPT)


def _status(*forms) -> int:
    return 400 if any(f.is_bound and f.errors for f in forms) else 200


def _type_labels() -> dict:
    return dict(HealthMeasurement._meta.get_field("type").choices)


# --- overview ---------------------------------------------------------------------------------------


@health_page
@require_GET
def overview(request):
    user = request.user
    profile = selectors.profile_get(user)
    meds = list(selectors.medications_list(user))  # read once: doses, adherence, as-needed and refills
    summary = selectors.adherence_summary(user, 7, medications=meds)
    return render(request, "health/overview.html", {
        "profile": profile,
        "height": units.height_text(profile.height, profile.height_unit) if profile else "",
        "weight": (f"{units.weight_in(profile.weight, profile.weight_unit).normalize():f} {profile.weight_unit}"
                   if profile and profile.weight is not None else ""),
        "serious_allergies": selectors.allergies_serious(user),
        "doses": selectors.doses_today(user, medications=meds),
        "as_needed": [m for m in meds if m.is_active and m.frequency == Frequency.AS_NEEDED],
        "refills": selectors.refill_warnings(user, medications=meds),
        "appointments": list(selectors.appointments_upcoming(user).filter(status="SCHEDULED")[:5]),
        "adherence": summary["overall"],
        "timezone_set": bool(getattr(getattr(user, "settings", None), "timezone", "")),
        "zone": timezone.get_current_timezone_name(),
    })


# --- profile ----------------------------------------------------------------------------------------


@health_page
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    profile = selectors.profile_get(request.user)
    form = ProfileForm.for_profile(profile, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        services.profile_update(
            request.user, blood_type=d["blood_type"], sex=d["sex"],
            birth_date=d["birth_date"].isoformat() if d["birth_date"] else None,
            weight=d["weight_kg"], height=d["height_cm"], weight_unit=d["weight_unit"], height_unit=d["height_unit"],
            temperature_unit=d["temperature_unit"], glucose_unit=d["glucose_unit"], encrypted_data=d["notes"] or None,
        )
        messages.success(request, _("Your health profile was saved."))
        return redirect("health:profile")
    return render(request, "health/profile.html", {
        "form": form, "profile": profile,
        "contacts": (profile.emergency_contacts or []) if profile else [],
        "insurance": (profile.insurance_info or []) if profile else [],
        "contact_form": ContactForm(prefix="contact"), "insurance_form": InsuranceForm(prefix="insurance"),
    }, status=_status(form))


@health_page
@require_POST
def profile_entry_add(request, field):
    form = ENTRY_FORMS[field](request.POST, prefix="contact" if field == "emergency_contacts" else "insurance")
    if form.is_valid():
        services.profile_entry_add(request.user, field, form.cleaned_data)
        messages.success(request, _("Saved."))
        return redirect("health:profile")
    profile = selectors.profile_get(request.user)
    context = {
        "form": ProfileForm.for_profile(profile), "profile": profile,
        "contacts": (profile.emergency_contacts or []) if profile else [],
        "insurance": (profile.insurance_info or []) if profile else [],
        "contact_form": form if field == "emergency_contacts" else ContactForm(prefix="contact"),
        "insurance_form": form if field == "insurance_info" else InsuranceForm(prefix="insurance"),
    }
    return render(request, "health/profile.html", context, status=400)


@health_page
@require_POST
def profile_entry_remove(request, field, index):
    if not services.profile_entry_remove(request.user, field, index):
        raise Http404
    messages.success(request, _("Removed."))
    return redirect("health:profile")


# --- conditions and allergies -----------------------------------------------------------------------


@health_page
@require_GET
def condition_list(request):
    return render(request, "health/conditions.html", {"conditions": selectors.conditions_list(request.user)[:LIST_LIMIT]})


@health_page
@require_http_methods(["GET", "POST"])
def condition_edit(request, pk=None):
    instance = selectors.condition_get(request.user, pk) if pk else None
    form = ConditionForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.condition_save(request.user, instance, **form.values())
        messages.success(request, _("Condition saved."))
        return redirect("health:conditions")
    return render(request, "health/form.html", {
        "form": form, "title": _("Edit condition") if instance else _("Add a condition"),
        "back": reverse("health:conditions"), "delete_url": reverse("health:condition_delete", args=[pk]) if pk else "",
    }, status=_status(form))


@health_page
@require_POST
def condition_delete(request, pk):
    services.row_delete(selectors.condition_get(request.user, pk))
    messages.success(request, _("Condition deleted."))
    return redirect("health:conditions")


@health_page
@require_GET
def allergy_list(request):
    return render(request, "health/allergies.html", {"allergies": selectors.allergies_list(request.user)[:LIST_LIMIT]})


@health_page
@require_http_methods(["GET", "POST"])
def allergy_edit(request, pk=None):
    instance = selectors.allergy_get(request.user, pk) if pk else None
    form = AllergyForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.allergy_save(request.user, instance, **form.values())
        messages.success(request, _("Allergy saved."))
        return redirect("health:allergies")
    return render(request, "health/form.html", {
        "form": form, "title": _("Edit allergy") if instance else _("Add an allergy"),
        "back": reverse("health:allergies"), "delete_url": reverse("health:allergy_delete", args=[pk]) if pk else "",
    }, status=_status(form))


@health_page
@require_POST
def allergy_delete(request, pk):
    services.row_delete(selectors.allergy_get(request.user, pk))
    messages.success(request, _("Allergy deleted."))
    return redirect("health:allergies")


# --- medications ------------------------------------------------------------------------------------


@health_page
@require_GET
def medication_list(request):
    user = request.user
    meds = list(selectors.medications_list(user)[:LIST_LIMIT])
    summaries = {days: selectors.adherence_summary(user, days) for days in adherence.WINDOWS}
    windows = {days: {row["id"]: row for row in summaries[days]["medications"]} for days in adherence.WINDOWS}
    overall = {days: summaries[days]["overall"] for days in adherence.WINDOWS}
    refill = {m.pk for m in selectors.refill_warnings(user)}
    rows = [{"med": m, "refill": m.pk in refill, "adherence": [(d, windows[d].get(str(m.pk))) for d in adherence.WINDOWS]} for m in meds]
    return render(request, "health/medications.html", {
        "rows": rows, "overall": [(d, overall[d]) for d in adherence.WINDOWS],
        "chart_url": reverse("health:adherence_json"),
    })


@health_page
@require_GET
def medication_detail(request, pk):
    user = request.user
    med = selectors.medication_get(user, pk)
    return render(request, "health/medication_detail.html", {
        "med": med,
        "doses": selectors.recent_past_doses(user, med) if med.frequency != Frequency.AS_NEEDED else [],
        "history": selectors.medication_history(user, med),
        "refill": med in selectors.refill_warnings(user),
        "adherence": [(d, next((r for r in selectors.adherence_summary(user, d)["medications"] if r["id"] == str(med.pk)), None))
                      for d in adherence.WINDOWS],
        "chart_url": reverse("health:adherence_json"),
    })


@health_page
@require_http_methods(["GET", "POST"])
def medication_edit(request, pk=None):
    instance = selectors.medication_get(request.user, pk) if pk else None
    form = MedicationForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        med = services.medication_save(request.user, instance, **form.values())
        messages.success(request, _("Medication saved."))
        return redirect("health:medication", pk=med.pk)
    return render(request, "health/form.html", {
        "form": form, "title": _("Edit medication") if instance else _("Add a medication"),
        "back": reverse("health:medication", args=[pk]) if pk else reverse("health:medications"),
        "delete_url": reverse("health:medication_delete", args=[pk]) if pk else "",
        "delete_question": _("Delete this medication and its whole dose history?"),
        "medication_form": True,
    }, status=_status(form))


@health_page
@require_POST
def medication_delete(request, pk):
    services.row_delete(selectors.medication_get(request.user, pk))
    messages.success(request, _("Medication deleted."))
    return redirect("health:medications")


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    return target if target.startswith("/health/") and "//" not in target and "\\" not in target else fallback


@health_page
@require_POST
def dose_record(request, pk):
    med = selectors.medication_get(request.user, pk)
    back = _back(request, reverse("health:overview"))
    form = DoseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That dose could not be read; reload the page and try again.")
                       if "taken_at" not in form.errors else _("Enter a valid date and time for the dose."))
        return redirect(back)
    data = form.cleaned_data
    try:
        if data["action"] == "undo":
            if services.dose_undo(request.user, med, scheduled=data["scheduled"]):
                messages.success(request, _("The dose record was removed."))
            else:
                messages.info(request, _("There was nothing to undo."))
        else:
            services.dose_record(request.user, med, scheduled=data["scheduled"], action=data["action"], taken_at=data["taken_at"])
            messages.success(request, _("Dose skipped.") if data["action"] == "skip" else _("Dose recorded as taken."))
    except UserFacingError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@health_page
@require_POST
def dose_as_needed(request, pk):
    med = selectors.medication_get(request.user, pk)
    back = _back(request, reverse("health:overview"))
    form = DoseForm({"scheduled": timezone.now().isoformat(), "action": "take", "taken_at": request.POST.get("taken_at", "")})
    if not form.is_valid():
        messages.error(request, _("Enter a valid date and time for the dose."))
        return redirect(back)
    try:
        services.dose_as_needed(request.user, med, taken_at=form.cleaned_data["taken_at"])
        messages.success(request, _("Dose recorded as taken."))
    except UserFacingError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@health_page
@require_GET
def adherence_json(request):
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 0
    if days not in adherence.WINDOWS:
        return JsonResponse({"error": _("days must be 7, 30 or 90.")}, status=400)
    user = request.user
    summary = selectors.adherence_summary(user, days)
    if request.GET.get("series") == "1":
        now = timezone.now()
        grace = timedelta(minutes=conf.dose_grace_minutes())
        meds = {str(m.pk): m for m in selectors.medications_list(user)}
        logs = selectors.logs_by_medication(user, now - timedelta(days=days), now + grace)
        tz = selectors.zone_of(user)
        for row in summary["medications"]:
            med = meds[row["id"]]
            row["series"] = adherence.daily_series(med, logs.get(med.pk, {}), tz, days, now, grace)
    return JsonResponse(summary)


# --- appointments -----------------------------------------------------------------------------------


@health_page
@require_GET
def appointment_list(request):
    user = request.user
    return render(request, "health/appointments.html", {
        "upcoming": selectors.appointments_upcoming(user)[:LIST_LIMIT],
        "past": selectors.appointments_past(user)[:LIST_LIMIT],
    })


@health_page
@require_http_methods(["GET", "POST"])
def appointment_edit(request, pk=None):
    instance = selectors.appointment_get(request.user, pk) if pk else None
    form = AppointmentForm(request.POST if request.method == "POST" else None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.appointment_save(request.user, instance, **form.values())
        messages.success(request, _("Appointment saved."))
        return redirect("health:appointments")
    return render(request, "health/form.html", {
        "form": form, "title": _("Edit appointment") if instance else _("Add an appointment"),
        "back": reverse("health:appointments"), "delete_url": reverse("health:appointment_delete", args=[pk]) if pk else "",
    }, status=_status(form))


@health_page
@require_POST
def appointment_delete(request, pk):
    services.row_delete(selectors.appointment_get(request.user, pk))
    messages.success(request, _("Appointment deleted."))
    return redirect("health:appointments")


@health_page
@require_GET
def appointment_ics(request, pk):
    appointment = selectors.appointment_get(request.user, pk)
    summary = _("Medical appointment: %(type)s") % {"type": appointment.get_type_display()}
    if appointment.specialty:
        summary += f" ({appointment.specialty})"
    body = exports.appointment_ics(appointment, summary, _("An appointment reminder"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.scheduled_date:%Y-%m-%d}.ics"'
    return response


# --- measurements -----------------------------------------------------------------------------------


# The chart's periods: query value → (days, label); None days = everything.
CHART_PERIODS = {
    "30": (30, gettext_lazy("30 days")),
    "90": (90, gettext_lazy("90 days")),
    "365": (365, gettext_lazy("1 year")),
    "all": (None, gettext_lazy("All time")),
}
DEFAULT_PERIOD = "365"
_QUICK_ENTRY_HTML: dict = {}  # (language, glucose unit) → the unbound quick-entry form's fields, rendered


def _quick_entry_html(form, profile_units) -> str:
    """The fields of the unbound quick-entry form, rendered once per language and glucose unit (its
    only inputs: nine widgets cost more than the rest of the page); a bound form is drawn afresh."""
    if form.is_bound:
        return ""
    key = (get_language(), profile_units.get("glucose", ""))
    html = _QUICK_ENTRY_HTML.get(key)
    if html is None:
        html = _QUICK_ENTRY_HTML[key] = mark_safe(render_to_string("partials/form_fields.html", {"form": form}))  # noqa: S308 (Django's own rendering)
    return html


def _measurement_context(request, make_form, profile_units=None):
    """The quick entry, the charts of the chosen period (computed in PostgreSQL) and one page of the
    table, newest first. A constant number of queries and a constant amount of rendering, whatever
    the record holds; the CSV carries everything."""
    user = request.user
    labels = {k: str(v) for k, v in _type_labels().items()}
    kind = request.GET.get("type", "")
    kind = kind if kind in labels else ""
    period = request.GET.get("period", "")
    period = period if period in CHART_PERIODS else DEFAULT_PERIOD
    days = CHART_PERIODS[period][0]
    since = timezone.now() - timedelta(days=days) if days else None
    size = conf.measurements_page_size()
    total, number, found, series, profile_units = selectors.measurements_page(user, kind or None, query_page(request), size, profile_units, since)
    form = make_form(profile_units)
    order = list(labels)
    charts = [
        {"type": series_type, "label": labels[series_type], "points": points, "band": measurements.reference_band(series_type, profile_units)}
        for series_type, points in sorted(series.items(), key=lambda item: order.index(item[0]))
    ]
    page = page_of(total, number, found, size)
    csrf_token = get_token(request)  # the page's one token: the template's forms and every row
    rows = health_rows.measurement_rows(found, labels, profile_units, csrf_token)
    return {
        "health_tabs": _tabs_html(request), "csrf_token": csrf_token, "form": form, "form_html": _quick_entry_html(form, profile_units), "rows": rows, "page": page, "charts": charts, "types": list(labels.items()), "kind": kind, "units": profile_units,
        "periods": [(value, label) for value, (_days, label) in CHART_PERIODS.items()], "period": period,
        "kind_query": f"type={kind}&" if kind else "", "period_query": f"period={period}&" if period != DEFAULT_PERIOD else "",
    }


@health_page
@require_http_methods(["GET", "POST"])
def measurement_list(request):
    if request.method != "POST":  # the units come with the page's other reads
        context = _measurement_context(request, lambda profile_units: MeasurementForm(None, profile_units=profile_units))
        return render(request, "health/measurements.html", context)
    profile_units = selectors.units_for(request.user)
    form = MeasurementForm(request.POST, profile_units=profile_units)
    if form.is_valid():
        d = form.cleaned_data
        services.measurement_add(request.user, kind=d["type"], value=d["value"], measured_at=d["measured_at"])
        messages.success(request, _("Measurement saved."))
        return redirect("health:measurements")
    return render(request, "health/measurements.html", _measurement_context(request, lambda _units: form, profile_units), status=_status(form))


@health_page
@require_POST
def measurement_delete(request, pk):
    services.row_delete(selectors.measurement_get(request.user, pk))
    messages.success(request, _("Measurement deleted."))
    return redirect("health:measurements")


@health_page
@require_GET
def measurement_csv(request):
    user = request.user
    profile_units = selectors.units_of(selectors.profile_get(user))
    body = exports.measurements_csv(selectors.measurements_list(user).iterator(chunk_size=2000), selectors.zone_of(user),
                                    profile_units, {k: str(v) for k, v in _type_labels().items()})
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="measurements.csv"'
    return response


# --- export and summary -----------------------------------------------------------------------------


@health_page
@require_GET
def export_fhir(request):
    data = fhir.bundle(request.user, selectors.record(request.user))
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=1), content_type="application/fhir+json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="health-record.fhir.json"'
    return response


@health_page
@require_GET
def summary(request):
    user = request.user
    record = selectors.record(user)
    profile = record["profile"]
    profile_units = selectors.units_of(profile)
    latest = {}
    for m in reversed(record["measurements"]):
        latest.setdefault(m.type, (m, measurements.show(m.type, m.value, profile_units)))
    return render(request, "health/summary.html", {
        **record,
        "height": units.height_text(profile.height, profile.height_unit) if profile else "",
        "weight": (f"{units.weight_in(profile.weight, profile.weight_unit).normalize():f} {profile.weight_unit}"
                   if profile and profile.weight is not None else ""),
        "latest": [latest[k] for k in _type_labels() if k in latest],
        "upcoming": [a for a in record["appointments"] if a.scheduled_date >= timezone.now() and a.status == "SCHEDULED"],
        "adherence": selectors.adherence_summary(user, 30),
        "generated": timezone.now(),
    })
