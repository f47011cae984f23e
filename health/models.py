"""Personal health data (ERD domain 8). Owner-only: row-level security without the staff bypass,
no admin, and the most sensitive profile fields encrypted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import fields
from core.crypto import EncryptedJSONField, EncryptedTextField
from core.models import CreatedAtModel, UUIDModel

EMPTY_JSON = models.Value({}, models.JSONField())
EMPTY_LIST = models.Value([], models.JSONField())


class BloodType(models.TextChoices):
    A_POS = "A+", "A+"
    A_NEG = "A-", "A-"
    B_POS = "B+", "B+"
    B_NEG = "B-", "B-"
    AB_POS = "AB+", "AB+"
    AB_NEG = "AB-", "AB-"
    O_POS = "O+", "O+"
    O_NEG = "O-", "O-"


class Sex(models.TextChoices):
    FEMALE = "FEMALE", _("Female")
    MALE = "MALE", _("Male")
    INTERSEX = "INTERSEX", _("Intersex")
    UNDISCLOSED = "UNDISCLOSED", _("Prefer not to say")


class WeightUnit(models.TextChoices):
    KG = "kg", _("kilograms (kg)")
    LB = "lb", _("pounds (lb)")


class HeightUnit(models.TextChoices):
    CM = "cm", _("centimetres (cm)")
    FT_IN = "ft_in", _("feet and inches")


class TemperatureUnit(models.TextChoices):
    C = "C", _("degrees Celsius (°C)")
    F = "F", _("degrees Fahrenheit (°F)")


class GlucoseUnit(models.TextChoices):
    MG_DL = "mg/dL", "mg/dL"
    MMOL_L = "mmol/L", "mmol/L"


class HealthProfile(UUIDModel, CreatedAtModel):
    """Height and weight are stored canonically (cm, kg); the ``*_unit`` columns (beyond the ERD)
    say how the owner reads and types them. ``birth_date`` (beyond the ERD) is encrypted, ISO text."""

    user = fields.OneToOneField(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="health_profile")
    blood_type = models.CharField(_("blood type"), max_length=3, choices=BloodType.choices, blank=True, default="", db_default="")
    height = models.DecimalField(_("height (cm)"), max_digits=5, decimal_places=1, null=True, blank=True)
    # Two decimals (beyond the ERD's precision): 0.01 kg keeps a weight typed in pounds exact to 0.1 lb.
    weight = models.DecimalField(_("weight (kg)"), max_digits=6, decimal_places=2, null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices, blank=True, default="", db_default="")
    emergency_contacts = EncryptedJSONField(_("emergency contacts"), null=True, blank=True)
    insurance_info = EncryptedJSONField(_("insurance"), null=True, blank=True)
    encrypted_data = EncryptedTextField(_("private notes"), null=True, blank=True)
    birth_date = EncryptedTextField(_("date of birth"), null=True, blank=True)
    weight_unit = models.CharField(_("weight unit"), max_length=5, choices=WeightUnit.choices, default="kg", db_default="kg")
    height_unit = models.CharField(_("height unit"), max_length=5, choices=HeightUnit.choices, default="cm", db_default="cm")
    temperature_unit = models.CharField(_("temperature unit"), max_length=1, choices=TemperatureUnit.choices, default="C", db_default="C")
    glucose_unit = models.CharField(_("glucose unit"), max_length=6, choices=GlucoseUnit.choices, default="mg/dL", db_default="mg/dL")

    class Meta:
        db_table = "health_profiles"
        verbose_name = _("health profile")
        verbose_name_plural = _("health profiles")
        constraints = [
            models.CheckConstraint(condition=Q(blood_type__in=["", *BloodType.values]), name="health_profiles_blood_type_valid"),
            models.CheckConstraint(condition=Q(sex__in=["", *Sex.values]), name="health_profiles_sex_valid"),
            models.CheckConstraint(condition=Q(height__isnull=True) | (Q(height__gt=0) & Q(height__lt=300)), name="health_profiles_height_range"),
            models.CheckConstraint(condition=Q(weight__isnull=True) | (Q(weight__gt=0) & Q(weight__lt=700)), name="health_profiles_weight_range"),
            models.CheckConstraint(condition=Q(weight_unit__in=WeightUnit.values), name="health_profiles_weight_unit_valid"),
            models.CheckConstraint(condition=Q(height_unit__in=HeightUnit.values), name="health_profiles_height_unit_valid"),
            models.CheckConstraint(condition=Q(temperature_unit__in=TemperatureUnit.values), name="health_profiles_temperature_unit_valid"),
            models.CheckConstraint(condition=Q(glucose_unit__in=GlucoseUnit.values), name="health_profiles_glucose_unit_valid"),
        ]


class Severity(models.TextChoices):
    MILD = "MILD", _("Mild")
    MODERATE = "MODERATE", _("Moderate")
    SEVERE = "SEVERE", _("Severe")
    CRITICAL = "CRITICAL", _("Life-threatening")


CONDITION_STATUSES = [("ACTIVE", _("Active")), ("CHRONIC", _("Chronic")), ("MANAGED", _("Managed")), ("RESOLVED", _("Resolved"))]


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day at set times")
    INTERVAL = "interval", _("Every N hours")
    WEEKDAYS = "weekdays", _("On chosen weekdays")
    AS_NEEDED = "as_needed", _("As needed")


class HealthChild(UUIDModel, CreatedAtModel):
    """A row of a health profile; ``user`` is filled from the profile by a trigger."""

    class Meta:
        abstract = True


class MedicalCondition(HealthChild):
    health_profile = fields.ForeignKey(HealthProfile, db_on_delete="CASCADE", related_name="conditions")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=[("CHRONIC", _("Chronic")), ("ACUTE", _("Acute")), ("OTHER", _("Other"))], default="CHRONIC", db_default="CHRONIC")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True, default="", db_default="")
    diagnosed_date = models.DateField(_("diagnosed"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=CONDITION_STATUSES, default="ACTIVE", db_default="ACTIVE")
    treatment = models.JSONField(_("treatment"), default=dict, db_default=EMPTY_JSON, blank=True)

    class Meta:
        db_table = "medical_conditions"
        verbose_name = _("medical condition")
        verbose_name_plural = _("medical conditions")


class Medication(HealthChild):
    health_profile = fields.ForeignKey(HealthProfile, db_on_delete="CASCADE", related_name="medications")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    name = models.CharField(_("name"), max_length=200)
    generic_name = models.CharField(_("generic name"), max_length=200, blank=True, default="", db_default="")
    dosage = models.CharField(_("dosage"), max_length=100)
    frequency = models.CharField(_("frequency"), max_length=100, choices=Frequency.choices)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    reminder_enabled = models.BooleanField(_("reminders"), default=False, db_default=False)
    reminder_times = models.JSONField(_("reminder times"), default=list, db_default=EMPTY_LIST, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)
    # Beyond the ERD: the schedule's details, the stock and the reminder marker.
    interval_hours = models.SmallIntegerField(_("every how many hours"), null=True, blank=True)
    weekdays = models.JSONField(_("weekdays"), default=list, db_default=EMPTY_LIST, blank=True)
    stock_count = models.IntegerField(_("doses in stock"), null=True, blank=True)
    refill_threshold = models.IntegerField(_("warn when stock falls to"), null=True, blank=True)
    reminded_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Doses are generated from this instant on (creation or the last schedule change); earlier ones
    # are what the logs hold, so editing the times does not rewrite the past.
    tracked_since = models.DateTimeField(default=timezone.now, db_default=models.functions.Now(), editable=False)

    class Meta:
        db_table = "medications"
        verbose_name = _("medication")
        verbose_name_plural = _("medications")
        constraints = [
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=models.F("start_date")), name="medications_dates_ordered"),
            models.CheckConstraint(condition=Q(interval_hours__isnull=True) | (Q(interval_hours__gte=1) & Q(interval_hours__lte=24)), name="medications_interval_range"),
            models.CheckConstraint(condition=Q(stock_count__isnull=True) | Q(stock_count__gte=0), name="medications_stock_not_negative"),
        ]


class MedicationStatus(models.TextChoices):
    TAKEN = "tomado", _("Taken")
    SKIPPED = "omitido", _("Skipped")
    LATE = "retrasado", _("Late")


class MedicationLog(HealthChild):
    medication = fields.ForeignKey(Medication, db_on_delete="CASCADE", related_name="logs", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    scheduled_time = models.DateTimeField(_("scheduled"))
    taken_time = models.DateTimeField(_("taken"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MedicationStatus.choices)
    # Beyond the ERD: who wrote an ``omitido`` — the person (skipped) or the reminder job (missed).
    recorded_by = models.CharField(max_length=6, choices=[("user", "user"), ("system", "system")], default="user", db_default="user")

    class Meta:
        db_table = "medication_logs"
        verbose_name = _("medication log")
        verbose_name_plural = _("medication logs")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MedicationStatus.values), name="medication_logs_status_valid"),
            models.CheckConstraint(condition=Q(recorded_by__in=["user", "system"]), name="medication_logs_recorded_by_valid"),
            # One record per dose: the reminder job and a double click cannot write a second one.
            models.UniqueConstraint(fields=["medication", "scheduled_time"], name="medication_logs_one_per_dose"),
        ]
        indexes = [models.Index(fields=["medication", "-scheduled_time"], name="idx_medication_logs_medication")]


class Allergy(HealthChild):
    health_profile = fields.ForeignKey(HealthProfile, db_on_delete="CASCADE", related_name="allergies")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    allergen = models.CharField(_("allergen"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=[("FOOD", _("Food")), ("DRUG", _("Medication")), ("ENVIRONMENTAL", _("Environmental")), ("OTHER", _("Other"))], default="OTHER", db_default="OTHER")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True, default="", db_default="")
    diagnosed_date = models.DateField(_("diagnosed"), null=True, blank=True)
    # Beyond the ERD: whether it still applies, and the reaction.
    status = models.CharField(_("status"), max_length=12, choices=CONDITION_STATUSES, default="ACTIVE", db_default="ACTIVE")
    reaction = models.TextField(_("reaction and notes"), blank=True, default="", db_default="")

    class Meta:
        db_table = "allergies"
        verbose_name = _("allergy")
        verbose_name_plural = _("allergies")


class MedicalAppointment(HealthChild):
    health_profile = fields.ForeignKey(HealthProfile, db_on_delete="CASCADE", related_name="appointments", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    type = models.CharField(_("type"), max_length=20, choices=[("CHECKUP", _("Check-up")), ("SPECIALIST", _("Specialist")), ("LAB", _("Lab test")), ("FOLLOW_UP", _("Follow-up")), ("OTHER", _("Other"))], default="CHECKUP", db_default="CHECKUP")
    specialty = models.CharField(_("specialty"), max_length=120, blank=True, default="", db_default="")
    scheduled_date = models.DateTimeField(_("when"))
    duration = models.IntegerField(_("duration (minutes)"), default=30, db_default=30)
    status = models.CharField(_("status"), max_length=12, choices=[("SCHEDULED", _("Scheduled")), ("COMPLETED", _("Completed")), ("CANCELLED", _("Cancelled")), ("MISSED", _("Missed"))], default="SCHEDULED", db_default="SCHEDULED")
    reason = models.TextField(_("reason"), blank=True, default="", db_default="")
    results = models.TextField(_("results"), blank=True, default="", db_default="")
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)  # beyond the ERD: the day-before email

    class Meta:
        db_table = "medical_appointments"
        verbose_name = _("medical appointment")
        verbose_name_plural = _("medical appointments")
        constraints = [models.CheckConstraint(condition=Q(duration__gt=0), name="medical_appointments_duration_positive")]
        indexes = [models.Index(fields=["health_profile", "scheduled_date"], name="idx_medical_appointments_date")]


class HealthMeasurement(HealthChild):
    health_profile = fields.ForeignKey(HealthProfile, db_on_delete="CASCADE", related_name="measurements", db_index=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    type = models.CharField(_("type"), max_length=30, choices=[("WEIGHT", _("Weight")), ("BLOOD_PRESSURE", _("Blood pressure")), ("GLUCOSE", _("Glucose")), ("HEART_RATE", _("Heart rate")), ("TEMPERATURE", _("Temperature")), ("OXYGEN", _("Oxygen saturation")), ("OTHER", _("Other"))])
    value = models.JSONField(_("value"))
    measured_at = models.DateTimeField(_("measured"), default=timezone.now)

    class Meta:
        db_table = "health_measurements"
        verbose_name = _("measurement")
        verbose_name_plural = _("measurements")
        indexes = [models.Index(fields=["health_profile", "type", "-measured_at"], name="idx_health_measurements_series")]


class ReminderOutbox(CreatedAtModel):
    """Beyond the ERD: a reminder email written in the same transaction that moved its marker, sent
    (and deleted) by the job afterwards, one short transaction per email (health/reminders.py).

    ``id`` is the idempotency key, a uuid5 of what the email is about (the medications and dose
    instants, or the appointments), and the email's Message-ID is built from it: an email sent again
    after a worker was killed mid-send is the same message. No medical detail is stored: who, which
    kind, how many, and since when it is due (rows older than the maximum delay are dropped unsent).
    """

    id = models.UUIDField(primary_key=True, editable=False)
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    kind = models.CharField(max_length=12, choices=[("medication", "medication"), ("appointment", "appointment")])
    count = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()

    class Meta:
        db_table = "health_reminder_outbox"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["medication", "appointment"]), name="health_reminder_outbox_kind_valid"),
            models.CheckConstraint(condition=Q(count__gt=0), name="health_reminder_outbox_count_positive"),
        ]
