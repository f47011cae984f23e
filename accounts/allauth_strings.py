"""django-allauth's strings whose Spanish we translate ourselves, in tú like the rest of the app (issue 07 item 11).

allauth ships its own Spanish catalogue, and it mostly speaks usted ("Inicie sesión", "su contraseña", "¿Ha olvidado
su contraseña?") with some tú mixed in, while every page of ours says "Inicia sesión", "tu contraseña". Django looks
up LOCALE_PATHS (our locale/) before the installed apps' catalogues, so an entry with the same msgid (and msgctxt) in
locale/es/LC_MESSAGES/django.po wins over allauth's. makemessages only keeps msgids it finds in our own sources, so
this module lists them: nothing imports it and nothing here runs; it is only read by makemessages.

Each msgid is allauth's, byte for byte (newlines, trailing spaces, %(x)s placeholders and HTML included), as in
allauth's locale/es/LC_MESSAGES/django.po (django-allauth 65.22). A msgid that no longer matches allauth's is
harmless but useless, and the page falls back to allauth's usted: after upgrading allauth (or Django), check the
list again (accounts/tests/test_spanish_register.py renders the pages in Spanish and fails on usted words).

Listed: every entry of allauth's catalogue whose Spanish is in usted or mixes in usted, plus a few that are tú
already but broken (typos, "doble factor" where our catalogue says "dos factores", a subject that reads like a
button), and at the end the few strings of Django's own catalogue (usted too) that allauth's pages show: the
password rules under the password fields and the malformed-address error. Left out: the OpenID Connect provider's
strings (allauth.idp is not installed) and allauth's admin, which never speak to the user in usted anyway. Plural
and contextual entries are written with ngettext_lazy / pgettext_lazy because those are keywords makemessages
extracts (Django has no ngettext_noop or pgettext_noop).
"""

from django.utils.translation import gettext_noop, ngettext_lazy, pgettext_lazy

ALLAUTH_MSGIDS = (
    # account/adapter.py
    gettext_noop("You cannot remove your primary email address."),
    gettext_noop("The email address and/or password you specified are not correct."),
    gettext_noop("The phone number and/or password you specified are not correct."),
    gettext_noop("Please type your current password."),
    gettext_noop("You cannot add more than %d email addresses."),
    gettext_noop("Too many failed login attempts. Try again later."),
    gettext_noop("Your primary email address must be verified."),
    gettext_noop("Username can not be used. Please use other username."),
    gettext_noop("The username and/or password you specified are not correct."),
    gettext_noop("Use your password"),
    # account/fields.py
    gettext_noop("Forgot your password?"),
    # account/forms.py
    gettext_noop("You must type the same password each time."),
    gettext_noop("You must type the same email each time."),
    # mfa/adapter.py
    gettext_noop("You cannot add an email address to an account protected by two-factor authentication."),
    gettext_noop("You cannot activate two-factor authentication until you have verified your email address."),
    # mfa/webauthn/forms.py
    gettext_noop(
        "Enabling passwordless operation allows you to sign in using just this key, but imposes "
        "additional requirements such as biometrics or PIN protection."
    ),
    # socialaccount/adapter.py
    gettext_noop(
        "An account already exists with this email address. Please sign in to that account first, "
        "then connect your %s account."
    ),
    gettext_noop("Your account has no password set up."),
    gettext_noop("Your account has no verified email address."),
    gettext_noop("You cannot disconnect your last remaining third-party account."),
    # templates/account/base_reauthenticate.html
    gettext_noop("Please reauthenticate to safeguard your account."),
    # templates/account/confirm_login_code.html
    gettext_noop("Enter Sign-In Code"),
    # templates/account/confirm_password_reset_code.html
    gettext_noop("Password Reset"),
    gettext_noop("Enter Password Reset Code"),
    # templates/account/confirm_phone_verification_code.html
    gettext_noop("Phone Verification"),
    # templates/account/email.html
    gettext_noop("The following email addresses are associated with your account:"),
    gettext_noop("Re-send Verification"),
    gettext_noop("Do you really want to remove the selected email address?"),
    # templates/account/email/account_already_exists_message.txt
    gettext_noop(
        "You are receiving this email because you or someone else tried to signup for an\n"
        "account using email address:\n"
        "\n"
        "%(email)s\n"
        "\n"
        "However, an account using that email address already exists.  In case you have\n"
        "forgotten about this, please use the password forgotten procedure to recover\n"
        "your account:\n"
        "\n"
        "%(password_reset_url)s"
    ),
    # templates/account/email/base_notification.txt
    gettext_noop("You are receiving this mail because the following change was made to your account:"),
    gettext_noop(
        "If you do not recognize this change then please take proper security precautions "
        "immediately. The change to your account originates from:\n"
        "\n"
        "- IP address: %(ip)s\n"
        "- Browser: %(user_agent)s\n"
        "- Date: %(timestamp)s"
    ),
    # templates/account/email/email_changed_message.txt
    gettext_noop("Your email has been changed from %(from_email)s to %(to_email)s."),
    # templates/account/email/email_confirm_message.txt
    gettext_noop("Your email has been confirmed."),
    # templates/account/email/email_confirmation_message.txt
    gettext_noop("To confirm this is correct, go to %(activate_url)s"),
    # templates/account/email/email_confirmation_subject.txt
    gettext_noop("Please Confirm Your Email Address"),
    # templates/account/email/login_code_message.txt
    gettext_noop("Your sign-in code is listed below. Please enter it in your open browser window."),
    gettext_noop("This mail can be safely ignored if you did not initiate this action."),
    # templates/account/email/password_changed_message.txt
    gettext_noop("Your password has been changed."),
    # templates/account/email/password_reset_code_message.txt
    gettext_noop("Your password reset code is listed below. Please enter it in your open browser window."),
    # templates/account/email/password_reset_key_message.txt
    gettext_noop(
        "You're receiving this email because you or someone else has requested a password reset "
        "for your user account.\n"
        "It can be safely ignored if you did not request a password reset. Click the link below to "
        "reset your password."
    ),
    gettext_noop("In case you forgot, your username is %(username)s."),
    # templates/account/email/password_reset_message.txt
    gettext_noop("Your password has been reset."),
    # templates/account/email/password_set_message.txt
    gettext_noop("Your password has been set."),
    # templates/account/email/password_set_subject.txt
    gettext_noop("Password Set"),
    # templates/account/email/unknown_account_message.txt
    gettext_noop(
        "You are receiving this email because you, or someone else, tried to access an account "
        "with email %(email)s. However, we do not have any record of such an account in our "
        "database."
    ),
    gettext_noop("If it was you, you can sign up for an account using the link below."),
    # templates/account/email_change.html
    gettext_noop("Your email address is still pending verification."),
    # templates/account/email_confirm.html
    gettext_noop(
        "Please confirm that <a href=\"mailto:%(email)s\">%(email)s</a> is an email address for user "
        "%(user_display)s."
    ),
    gettext_noop(
        "This email confirmation link expired or is invalid. Please <a href=\"%(email_url)s\">issue "
        "a new email confirmation request</a>."
    ),
    # templates/account/login.html
    gettext_noop("If you have not created an account yet, then please %(link)ssign up%(end_link)s first."),
    # templates/account/logout.html
    gettext_noop("Are you sure you want to sign out?"),
    # templates/account/messages/cannot_delete_primary_email.txt
    gettext_noop("You cannot remove your primary email address (%(email)s)."),
    # templates/account/messages/email_confirmed.txt
    gettext_noop("You have confirmed %(email)s."),
    # templates/account/messages/logged_in.txt
    gettext_noop("Successfully signed in as %(name)s."),
    # templates/account/messages/logged_out.txt
    gettext_noop("You have signed out."),
    # templates/account/messages/login_code_sent.txt
    gettext_noop("A sign-in code has been sent to %(recipient)s."),
    # templates/account/messages/phone_verification_sent.txt
    gettext_noop("A verification code has been sent to %(phone)s."),
    # templates/account/password_reset.html
    gettext_noop(
        "Forgotten your password? Enter your email address below, and we'll send you an email "
        "allowing you to reset it."
    ),
    gettext_noop("Please contact us if you have any trouble resetting your password."),
    # templates/account/password_reset_done.html
    gettext_noop(
        "We have sent you an email. If you have not received it please check your spam folder. "
        "Otherwise contact us if you do not receive it in a few minutes."
    ),
    # templates/account/password_reset_from_key.html
    gettext_noop(
        "The password reset link was invalid, possibly because it has already been used.  Please "
        "request a <a href=\"%(passwd_reset_url)s\">new password reset</a>."
    ),
    # templates/account/password_reset_from_key_done.html
    gettext_noop("Your password is now changed."),
    # templates/account/phone_change.html
    gettext_noop("Change Phone"),
    gettext_noop("Your phone number is still pending verification."),
    pgettext_lazy("action", "Change Phone"),
    # templates/account/reauthenticate.html
    gettext_noop("Enter your password:"),
    # templates/account/request_login_code.html
    gettext_noop("You will receive a special code for a password-free sign-in."),
    gettext_noop("Request Code"),
    # templates/account/signup.html
    gettext_noop("Already have an account? Then please %(link)ssign in%(end_link)s."),
    # templates/account/signup_by_passkey.html
    gettext_noop("Passkey Sign Up"),
    # templates/account/snippets/already_logged_in.html
    gettext_noop("You are already logged in as %(user_display)s."),
    # templates/account/snippets/warn_no_email.html
    gettext_noop(
        "You currently do not have any email address set up. You should really add an email "
        "address so you can receive notifications, reset your password, etc."
    ),
    # templates/account/verification_sent.html
    gettext_noop("Verify Your Email Address"),
    gettext_noop(
        "We have sent an email to you for verification. Follow the link provided to finalize the "
        "signup process. If you do not see the verification email in your main inbox, check your "
        "spam folder. Please contact us if you do not receive the verification email within a few "
        "minutes."
    ),
    # templates/account/verified_email_required.html
    gettext_noop(
        "This part of the site requires us to verify that\n"
        "you are who you claim to be. For this purpose, we require that you\n"
        "verify ownership of your email address. "
    ),
    gettext_noop(
        "We have sent an email to you for\n"
        "verification. Please click on the link inside that email. If you do not see the "
        "verification email in your main inbox, check your spam folder. Otherwise\n"
        "contact us if you do not receive it within a few minutes."
    ),
    # templates/allauth/layouts/base.html
    gettext_noop("Two-Factor Authentication"),
    # templates/mfa/authenticate.html
    gettext_noop(
        "Your account is protected by two-factor authentication. Please enter an authenticator "
        "code:"
    ),
    # templates/mfa/email/recovery_codes_generated_message.txt
    gettext_noop("A new set of Two-Factor Authentication recovery codes has been generated."),
    # templates/mfa/email/recovery_codes_generated_subject.txt
    gettext_noop("New Recovery Codes Generated"),
    # templates/mfa/index.html
    ngettext_lazy(
        "There is %(unused_count)s out of %(total_count)s recovery codes available.",
        "There are %(unused_count)s out of %(total_count)s recovery codes available.",
    ),
    # templates/mfa/reauthenticate.html
    gettext_noop("Enter an authenticator code:"),
    # templates/mfa/recovery_codes/generate.html
    gettext_noop("You are about to generate a new set of recovery codes for your account."),
    gettext_noop("This action will invalidate your existing codes."),
    gettext_noop("Are you sure?"),
    # templates/mfa/totp/activate_form.html
    gettext_noop(
        "To protect your account with two-factor authentication, scan the QR code below with your "
        "authenticator app. Then, input the verification code generated by the app below."
    ),
    gettext_noop("You can store this secret and use it to reinstall your authenticator app at a later time."),
    # templates/mfa/totp/deactivate_form.html
    gettext_noop("You are about to deactivate authenticator app based authentication. Are you sure?"),
    # templates/mfa/trust.html
    gettext_noop("Trust this Browser?"),
    # templates/socialaccount/authentication_error.html
    gettext_noop("An error occurred while attempting to login via your third-party account."),
    # templates/socialaccount/connections.html
    gettext_noop("You can sign in to your account using any of the following third-party accounts:"),
    gettext_noop("You currently have no third-party accounts connected to this account."),
    # templates/socialaccount/email/account_connected_message.txt
    gettext_noop("A third-party account from %(provider)s has been connected to your account."),
    # templates/socialaccount/login.html
    gettext_noop("You are about to connect a new third-party account from %(provider)s."),
    gettext_noop("You are about to sign in using a third-party account from %(provider)s."),
    # templates/socialaccount/login_cancelled.html
    gettext_noop(
        "You decided to cancel logging in to our site using one of your existing accounts. If this "
        "was a mistake, please proceed to <a href=\"%(login_url)s\">sign in</a>."
    ),
    # templates/socialaccount/signup.html
    gettext_noop(
        "You are about to use your %(provider_name)s account to login to\n"
        "%(site_name)s. As a final step, please complete the following form:"
    ),
    # templates/socialaccount/snippets/login.html
    gettext_noop("Or use a third-party"),
    # Django: django/contrib/auth/password_validation.py
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
    ),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    # Django: django/core/validators.py
    gettext_noop("Enter a valid email address."),
)
