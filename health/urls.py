"""URL map of /health/ (see config/urls.py)."""

from django.urls import path

from . import views

app_name = "health"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("profile/", views.profile_edit, name="profile"),
    path("profile/contacts/", views.profile_entry_add, {"field": "emergency_contacts"}, name="contact_add"),
    path("profile/contacts/<int:index>/delete/", views.profile_entry_remove, {"field": "emergency_contacts"}, name="contact_delete"),
    path("profile/insurance/", views.profile_entry_add, {"field": "insurance_info"}, name="insurance_add"),
    path("profile/insurance/<int:index>/delete/", views.profile_entry_remove, {"field": "insurance_info"}, name="insurance_delete"),
    path("conditions/", views.condition_list, name="conditions"),
    path("conditions/new/", views.condition_edit, name="condition_new"),
    path("conditions/<uuid:pk>/", views.condition_edit, name="condition_edit"),
    path("conditions/<uuid:pk>/delete/", views.condition_delete, name="condition_delete"),
    path("allergies/", views.allergy_list, name="allergies"),
    path("allergies/new/", views.allergy_edit, name="allergy_new"),
    path("allergies/<uuid:pk>/", views.allergy_edit, name="allergy_edit"),
    path("allergies/<uuid:pk>/delete/", views.allergy_delete, name="allergy_delete"),
    path("medications/", views.medication_list, name="medications"),
    path("medications/new/", views.medication_edit, name="medication_new"),
    path("medications/<uuid:pk>/", views.medication_detail, name="medication"),
    path("medications/<uuid:pk>/edit/", views.medication_edit, name="medication_edit"),
    path("medications/<uuid:pk>/delete/", views.medication_delete, name="medication_delete"),
    path("medications/<uuid:pk>/doses/", views.dose_record, name="dose"),
    path("medications/<uuid:pk>/took-now/", views.dose_as_needed, name="dose_as_needed"),
    path("adherence.json", views.adherence_json, name="adherence_json"),
    path("appointments/", views.appointment_list, name="appointments"),
    path("appointments/new/", views.appointment_edit, name="appointment_new"),
    path("appointments/<uuid:pk>/", views.appointment_edit, name="appointment_edit"),
    path("appointments/<uuid:pk>/delete/", views.appointment_delete, name="appointment_delete"),
    path("appointments/<uuid:pk>/calendar.ics", views.appointment_ics, name="appointment_ics"),
    path("measurements/", views.measurement_list, name="measurements"),
    path("measurements/export.csv", views.measurement_csv, name="measurements_csv"),
    path("measurements/<uuid:pk>/delete/", views.measurement_delete, name="measurement_delete"),
    path("export/fhir.json", views.export_fhir, name="export_fhir"),
    path("summary/", views.summary, name="summary"),
]
