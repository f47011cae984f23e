from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

# The same pattern as the users.email CHECK constraint (the ERD's), so the form refuses first.
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"

email_shape_validator = RegexValidator(
    EMAIL_PATTERN,
    message=_("Enter an email address with only letters, digits and . _ %% + - before the @."),
    code="invalid_email",
)
