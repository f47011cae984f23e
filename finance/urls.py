"""URL map of /finance/ (see config/urls.py)."""

from django.urls import path

from . import views

app_name = "finance"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("profile/", views.profile_edit, name="profile"),
    path("alerts/<uuid:pk>/dismiss/", views.alert_dismiss, name="alert_dismiss"),
    path("accounts/new/", views.account_new, name="account_new"),
    path("accounts/<uuid:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<uuid:pk>/delete/", views.account_delete, name="account_delete"),
    path("transactions/", views.transaction_list, name="transactions"),
    path("transactions/new/", views.transaction_new, name="transaction_new"),
    path("transactions/<uuid:pk>/edit/", views.transaction_edit, name="transaction_edit"),
    path("transactions/<uuid:pk>/delete/", views.transaction_delete, name="transaction_delete"),
    path("transfers/new/", views.transfer_new, name="transfer_new"),
    path("categories/", views.category_list, name="categories"),
    path("categories/<uuid:pk>/edit/", views.category_edit, name="category_edit"),
    path("categories/<uuid:pk>/delete/", views.category_delete, name="category_delete"),
    path("rates/", views.rate_list, name="rates"),
    path("rates/upload/", views.rates_upload, name="rates_upload"),
    path("rates/<uuid:pk>/delete/", views.rate_delete, name="rate_delete"),
    path("budgets/", views.budget_list, name="budgets"),
    path("budgets/new/", views.budget_new, name="budget_new"),
    path("budgets/<uuid:pk>/edit/", views.budget_edit, name="budget_edit"),
    path("budgets/<uuid:pk>/delete/", views.budget_delete, name="budget_delete"),
    path("debts/", views.debt_list, name="debts"),
    path("debts/new/", views.debt_new, name="debt_new"),
    path("debts/<uuid:pk>/", views.debt_detail, name="debt_detail"),
    path("debts/<uuid:pk>/edit/", views.debt_edit, name="debt_edit"),
    path("debts/<uuid:pk>/delete/", views.debt_delete, name="debt_delete"),
    path("debts/<uuid:pk>/schedule.csv", views.debt_schedule_csv, name="debt_schedule_csv"),
    path("debts/<uuid:pk>/payments/new/", views.debt_payment_new, name="debt_payment_new"),
    path("investments/", views.investment_list, name="investments"),
    path("investments/new/", views.investment_new, name="investment_new"),
    path("investments/prices/", views.investment_prices, name="investment_prices"),
    path("investments/<uuid:pk>/edit/", views.investment_edit, name="investment_edit"),
    path("investments/<uuid:pk>/delete/", views.investment_delete, name="investment_delete"),
    path("recurring/", views.recurring_list, name="recurring"),
    path("recurring/new/", views.recurring_new, name="recurring_new"),
    path("recurring/<uuid:pk>/edit/", views.recurring_edit, name="recurring_edit"),
    path("recurring/<uuid:pk>/delete/", views.recurring_delete, name="recurring_delete"),
    path("import/", views.import_start, name="import"),
    path("import/<uuid:pk>/", views.import_preview, name="import_preview"),
    path("import/<uuid:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/<uuid:pk>/discard/", views.import_discard, name="import_discard"),
    path("import/<uuid:pk>/undo/", views.import_undo, name="import_undo"),
    path("export.zip", views.export, name="export"),
    path("reports/", views.reports, name="reports"),
]
