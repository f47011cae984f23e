"""Forms of the health pages. Values typed in the owner's units are converted to the canonical
ones here (kg, cm, °C, mg/dL); every refusal is a translated message on its field."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import schedule, units
from .errors import HealthInputError
from .measurements import GLUCOSE_CONTEXTS, GLUCOSE_UNITS, RANGES, clean_value
from .models import (
    CONDITION_STATUSES,
    Allergy,
    BloodType,
    Frequency,
    GlucoseUnit,
    HeightUnit,
    MedicalAppointment,
    MedicalCondition,
    Medication,
    Sex,
    TemperatureUnit,
    WeightUnit,
)

WEEKDAYS = [(0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
            (5, _("Saturday")), (6, _("Sunday"))]
DATE = {"type": "date"}
MAX_TIMES = 24


def _not_future(value, message):
    if value and value > timezone.localdate():
        raise forms.ValidationError(message)
    return value


class ProfileForm(forms.Form):
    blood_type = forms.ChoiceField(label=_("Blood type"), choices=[("", _("Unknown"))] + BloodType.choices, required=False)
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—")] + Sex.choices, required=False)
    birth_date = forms.DateField(label=_("Date of birth"), required=False, widget=forms.DateInput(attrs=DATE))
    weight = forms.DecimalField(label=_("Weight"), required=False, max_digits=7, decimal_places=2,
                                help_text=_("In the weight unit chosen below."))
    height = forms.DecimalField(label=_("Height (cm)"), required=False, max_digits=5, decimal_places=1)
    height_feet = forms.IntegerField(label=_("Height: feet"), required=False, min_value=0, max_value=9)
    height_inches = forms.DecimalField(label=_("Height: inches"), required=False, min_value=0, max_digits=4, decimal_places=1)
    weight_unit = forms.ChoiceField(label=_("Weight unit"), choices=WeightUnit.choices)
    height_unit = forms.ChoiceField(label=_("Height unit"), choices=HeightUnit.choices)
    temperature_unit = forms.ChoiceField(label=_("Temperature unit"), choices=TemperatureUnit.choices)
    glucose_unit = forms.ChoiceField(label=_("Glucose unit"), choices=GlucoseUnit.choices)
    notes = forms.CharField(label=_("Private notes"), required=False, max_length=10000, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("Stored encrypted."))

    @classmethod
    def for_profile(cls, profile, data=None):
        initial = {"weight_unit": "kg", "height_unit": "cm", "temperature_unit": "C", "glucose_unit": "mg/dL"}
        if profile is not None:
            initial.update(blood_type=profile.blood_type, sex=profile.sex, birth_date=profile.birth_date or None,
                           weight_unit=profile.weight_unit, height_unit=profile.height_unit,
                           temperature_unit=profile.temperature_unit, glucose_unit=profile.glucose_unit,
                           notes=profile.encrypted_data or "")
            if profile.weight is not None:
                initial["weight"] = units.weight_in(profile.weight, profile.weight_unit)
            if profile.height is not None:
                initial["height"] = profile.height
                initial["height_feet"], initial["height_inches"] = units.cm_to_ft_in(profile.height)
        return cls(data, initial=initial)

    def clean_birth_date(self):
        value = _not_future(self.cleaned_data.get("birth_date"), _("The date of birth cannot be in the future."))
        if value and value < date(1900, 1, 1):
            raise forms.ValidationError(_("Enter a date of birth after 1900."))
        return value

    def clean(self):
        data = super().clean()
        weight = data.get("weight")
        if weight is not None:
            kg = units.weight_from(weight, data.get("weight_unit") or "kg")
            low, high = RANGES["kg"]
            if kg <= 0:
                self.add_error("weight", _("The weight must be more than zero."))
            elif not low <= kg <= high:
                self.add_error("weight", _("A weight of %(value)s %(unit)s is not plausible; check it.")
                               % {"value": f"{weight.normalize():f}", "unit": data.get("weight_unit")})
            else:
                data["weight_kg"] = kg.quantize(units.Decimal("0.01"))
        else:
            data["weight_kg"] = None
        if data.get("height_unit") == "ft_in":
            feet, inches = data.get("height_feet"), data.get("height_inches")
            cm = units.ft_in_to_cm(feet or 0, inches or 0) if (feet or inches) else None
            field = "height_feet"
        else:
            cm = data.get("height")
            field = "height"
        if cm is not None and not units.Decimal("20") <= cm <= units.Decimal("280"):
            self.add_error(field, _("A height of %(value)s cm is not plausible; check it.") % {"value": units.rounded(cm, 1)})
        data["height_cm"] = cm.quantize(units.Decimal("0.1")) if cm is not None else None
        return data


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    relationship = forms.CharField(label=_("Relationship"), max_length=60, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Give a phone number or an email address to reach this contact."))
        return data


class InsuranceForm(forms.Form):
    provider = forms.CharField(label=_("Insurer"), max_length=120)
    plan = forms.CharField(label=_("Plan"), max_length=120, required=False)
    member_id = forms.CharField(label=_("Member ID"), max_length=60, required=False)
    group_number = forms.CharField(label=_("Group number"), max_length=60, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class ConditionForm(forms.ModelForm):
    notes = forms.CharField(label=_("Treatment notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    class Meta:
        model = MedicalCondition
        fields = ["name", "type", "severity", "status", "diagnosed_date"]
        widgets = {"diagnosed_date": forms.DateInput(attrs=DATE)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = CONDITION_STATUSES
        if self.instance and isinstance(self.instance.treatment, dict):
            self.initial.setdefault("notes", self.instance.treatment.get("notes", ""))

    def clean_diagnosed_date(self):
        return _not_future(self.cleaned_data.get("diagnosed_date"), _("The diagnosis date cannot be in the future."))

    def values(self) -> dict:
        data = {f: self.cleaned_data[f] for f in self.Meta.fields}
        data["treatment"] = {"notes": self.cleaned_data["notes"]} if self.cleaned_data["notes"] else {}
        return data


class AllergyForm(forms.ModelForm):
    class Meta:
        model = Allergy
        fields = ["allergen", "type", "severity", "status", "diagnosed_date", "reaction"]
        widgets = {"diagnosed_date": forms.DateInput(attrs=DATE), "reaction": forms.Textarea(attrs={"rows": 3})}

    def clean_diagnosed_date(self):
        return _not_future(self.cleaned_data.get("diagnosed_date"), _("The diagnosis date cannot be in the future."))

    def values(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.Meta.fields}


class MedicationForm(forms.ModelForm):
    frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    times = forms.CharField(label=_("Times"), required=False, max_length=300,
                            help_text=_("24-hour local times separated by commas, e.g. 08:00, 20:00. Every N hours: the first dose."))
    weekdays = forms.TypedMultipleChoiceField(label=_("Weekdays"), choices=WEEKDAYS, coerce=int, required=False,
                                              widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Medication
        fields = ["name", "generic_name", "dosage", "frequency", "interval_hours", "weekdays", "start_date", "end_date",
                  "reminder_enabled", "is_active", "stock_count", "refill_threshold"]
        widgets = {"start_date": forms.DateInput(attrs=DATE), "end_date": forms.DateInput(attrs=DATE)}
        labels = {"reminder_enabled": _("Email me a reminder at each dose"), "is_active": _("I am taking it")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        order = ["name", "generic_name", "dosage", "frequency", "times", "interval_hours", "weekdays", "start_date", "end_date",
                 "reminder_enabled", "is_active", "stock_count", "refill_threshold"]
        self.order_fields(order)
        self.fields["interval_hours"].min_value = 1
        self.fields["interval_hours"].max_value = 24
        self.fields["interval_hours"].widget.attrs.update(min=1, max=24)
        for name in ("stock_count", "refill_threshold"):
            self.fields[name].validators.append(MinValueValidator(0))
            self.fields[name].widget.attrs.update(min=0)
        self.fields["refill_threshold"].help_text = _("Empty: a week of doses.")
        if self.instance and self.instance.pk:
            self.initial.setdefault("times", ", ".join(self.instance.reminder_times or []))
            if self.instance.frequency not in Frequency.values:
                self.initial["frequency"] = Frequency.AS_NEEDED

    def clean_interval_hours(self):
        value = self.cleaned_data.get("interval_hours")
        if value is not None and not 1 <= value <= 24:
            raise forms.ValidationError(_("Choose between 1 and 24 hours."))
        return value

    def clean_times(self):
        raw = [t.strip() for t in (self.cleaned_data.get("times") or "").replace(";", ",").split(",") if t.strip()]
        parsed = []
        for text in raw:
            try:
                parsed.append(schedule.parse_time(text))
            except ValueError:
                raise forms.ValidationError(_("“%(time)s” is not a time; use 24-hour HH:MM, from 00:00 to 23:59.") % {"time": text[:10]}) from None
        if len(parsed) > MAX_TIMES:
            raise forms.ValidationError(_("At most %(count)s times a day.") % {"count": MAX_TIMES})
        return [t.strftime("%H:%M") for t in sorted(set(parsed))]

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date cannot be before the start date."))
        frequency = data.get("frequency")
        times = data.get("times") or []
        if frequency in (Frequency.DAILY, Frequency.WEEKDAYS) and not times and "times" not in self.errors:
            self.add_error("times", _("Give at least one time for the doses."))
        if frequency == Frequency.INTERVAL:
            if not data.get("interval_hours") and "interval_hours" not in self.errors:
                self.add_error("interval_hours", _("Say every how many hours."))
            if not times and "times" not in self.errors:
                self.add_error("times", _("Give the time of the first dose of the day."))
            times = times[:1]
        if frequency == Frequency.WEEKDAYS and not data.get("weekdays"):
            self.add_error("weekdays", _("Choose at least one weekday."))
        if frequency == Frequency.AS_NEEDED:
            times = []
            if data.get("reminder_enabled"):
                data["reminder_enabled"] = False
        data["reminder_times"] = times
        if frequency != Frequency.INTERVAL:
            data["interval_hours"] = None
        if frequency != Frequency.WEEKDAYS:
            data["weekdays"] = []
        return data

    def values(self) -> dict:
        names = [f for f in self.Meta.fields] + ["reminder_times"]
        return {f: self.cleaned_data.get(f) for f in names}


class AppointmentForm(forms.ModelForm):
    scheduled_date = forms.DateTimeField(label=_("Date and time"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    class Meta:
        model = MedicalAppointment
        fields = ["type", "specialty", "scheduled_date", "duration", "status", "reason", "results"]
        widgets = {"reason": forms.Textarea(attrs={"rows": 2}), "results": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duration"].min_value = 1
        self.fields["duration"].max_value = 24 * 60
        self.fields["duration"].widget.attrs.update(min=1, max=24 * 60)

    def clean_duration(self):
        value = self.cleaned_data.get("duration")
        if value is not None and not 1 <= value <= 24 * 60:
            raise forms.ValidationError(_("Give a duration between 1 minute and 24 hours."))
        return value

    def clean_scheduled_date(self):
        value = self.cleaned_data["scheduled_date"]
        if value.year < 1900 or value.year > 2200:
            raise forms.ValidationError(_("Enter a date between 1900 and 2200."))
        return value

    def values(self) -> dict:
        return {f: self.cleaned_data[f] for f in self.Meta.fields}


class MeasurementForm(forms.Form):
    type = forms.ChoiceField(label=_("Measurement"), choices=[
        ("WEIGHT", _("Weight")), ("BLOOD_PRESSURE", _("Blood pressure")), ("GLUCOSE", _("Glucose")),
        ("HEART_RATE", _("Heart rate")), ("TEMPERATURE", _("Temperature")), ("OXYGEN", _("Oxygen saturation")), ("OTHER", _("Other"))])
    amount = forms.CharField(label=_("Value"), required=False, max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    systolic = forms.CharField(label=_("Systolic (mmHg)"), required=False, max_length=10, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    diastolic = forms.CharField(label=_("Diastolic (mmHg)"), required=False, max_length=10, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    # A text field drawn as a select: an unknown unit gets clean_value's clear message, not "invalid choice".
    unit = forms.CharField(label=_("Glucose unit"), required=False, max_length=10, widget=forms.Select(choices=[("", "—")] + [(u, u) for u in GLUCOSE_UNITS]))
    context = forms.ChoiceField(label=_("When"), required=False, choices=GLUCOSE_CONTEXTS)
    label = forms.CharField(label=_("What (other)"), required=False, max_length=80)
    other_unit = forms.CharField(label=_("Unit (other)"), required=False, max_length=20)
    measured_at = forms.DateTimeField(label=_("Measured at"), required=False,
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def __init__(self, *args, profile_units=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile_units = profile_units or {}
        self.fields["unit"].initial = self.profile_units.get("glucose", "")

    def clean_measured_at(self):
        value = self.cleaned_data.get("measured_at") or timezone.now()
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("A measurement cannot be in the future."))
        return value

    def clean(self):
        data = super().clean()
        kind = data.get("type")
        if kind and not self.errors:
            raw = {"amount": data.get("amount"), "systolic": data.get("systolic"), "diastolic": data.get("diastolic"),
                   "unit": data.get("unit") if kind == "GLUCOSE" else data.get("other_unit"), "context": data.get("context"),
                   "label": data.get("label")}
            try:
                data["value"] = clean_value(kind, raw, self.profile_units)
            except HealthInputError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


class DoseForm(forms.Form):
    scheduled = forms.DateTimeField()
    action = forms.ChoiceField(choices=[("take", "take"), ("skip", "skip"), ("undo", "undo")])
    taken_at = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
