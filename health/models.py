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


class HealthProfile(UUIDModel, CreatedAtModel):
    user = fields.OneToOneField(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="health_profile")
    blood_type = models.CharField(_("blood type"), max_length=3, choices=BloodType.choices, blank=True, default="", db_default="")
    height = models.DecimalField(_("height (cm)"), max_digits=5, decimal_places=1, null=True, blank=True)
    weight = models.DecimalField(_("weight (kg)"), max_digits=5, decimal_places=1, null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices, blank=True, default="", db_default="")
    emergency_contacts = EncryptedJSONField(_("emergency contacts"), null=True, blank=True)
    insurance_info = EncryptedJSONField(_("insurance"), null=True, blank=True)
    encrypted_data = EncryptedTextField(_("private notes"), null=True, blank=True)

    class Meta:
        db_table = "health_profiles"
        verbose_name = _("health profile")
        verbose_name_plural = _("health profiles")
        constraints = [
            models.CheckConstraint(condition=Q(blood_type__in=["", *BloodType.values]), name="health_profiles_blood_type_valid"),
            models.CheckConstraint(condition=Q(sex__in=["", *Sex.values]), name="health_profiles_sex_valid"),
            models.CheckConstraint(condition=Q(height__isnull=True) | (Q(height__gt=0) & Q(height__lt=300)), name="health_profiles_height_range"),
            models.CheckConstraint(condition=Q(weight__isnull=True) | (Q(weight__gt=0) & Q(weight__lt=700)), name="health_profiles_weight_range"),
        ]


class Severity(models.TextChoices):
    MILD = "MILD", _("Mild")
    MODERATE = "MODERATE", _("Moderate")
    SEVERE = "SEVERE", _("Severe")
    CRITICAL = "CRITICAL", _("Critical")


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
    status = models.CharField(_("status"), max_length=12, choices=[("ACTIVE", _("Active")), ("MANAGED", _("Managed")), ("RESOLVED", _("Resolved"))], default="ACTIVE", db_default="ACTIVE")
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
    frequency = models.CharField(_("frequency"), max_length=100)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    reminder_enabled = models.BooleanField(_("reminders"), default=False, db_default=False)
    reminder_times = models.JSONField(_("reminder times"), default=list, db_default=EMPTY_LIST, blank=True)
    is_active = models.BooleanField(_("active"), default=True, db_default=True)

    class Meta:
        db_table = "medications"
        verbose_name = _("medication")
        verbose_name_plural = _("medications")
        constraints = [models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gte=models.F("start_date")), name="medications_dates_ordered")]


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

    class Meta:
        db_table = "medication_logs"
        verbose_name = _("medication log")
        verbose_name_plural = _("medication logs")
        constraints = [models.CheckConstraint(condition=Q(status__in=MedicationStatus.values), name="medication_logs_status_valid")]
        indexes = [models.Index(fields=["medication", "-scheduled_time"], name="idx_medication_logs_medication")]


class Allergy(HealthChild):
    health_profile = fields.ForeignKey(HealthProfile, db_on_delete="CASCADE", related_name="allergies")
    user = fields.ForeignKey(settings.AUTH_USER_MODEL, db_on_delete="CASCADE", related_name="+")
    allergen = models.CharField(_("allergen"), max_length=200)
    type = models.CharField(_("type"), max_length=20, choices=[("FOOD", _("Food")), ("DRUG", _("Medication")), ("ENVIRONMENTAL", _("Environmental")), ("OTHER", _("Other"))], default="OTHER", db_default="OTHER")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True, default="", db_default="")
    diagnosed_date = models.DateField(_("diagnosed"), null=True, blank=True)

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
