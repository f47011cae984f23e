"""Background work of the finance domain (the work lives in budget_alerts and recurring)."""

from celery import shared_task


def _email_alerts(pairs) -> None:
    for user_id, alert_id in pairs:
        send_alert_email.delay(str(user_id), str(alert_id))


@shared_task(name="finance.check_budgets")
def check_budgets(user_id: str) -> int:
    from .budget_alerts import check_user  # noqa: PLC0415 - tasks import the work in the task body

    created = check_user(user_id)  # committed when it returns
    _email_alerts((user_id, alert_id) for alert_id in created)
    return len(created)


# Like the usage alerts: no retries and early acknowledgement, a duplicate email is worse than a lost one.
@shared_task(name="finance.send_alert_email", acks_late=False, max_retries=0)
def send_alert_email(user_id: str, alert_id: str) -> bool:
    from .budget_alerts import alert_notify  # noqa: PLC0415

    return alert_notify(user_id=user_id, alert_id=alert_id)


@shared_task(name="finance.run_recurring")
def run_recurring() -> int:
    """Beat job: every due occurrence of every recurring payment, exactly once."""
    from .recurring import run_due  # noqa: PLC0415

    alerts: list = []
    debited: set = set()
    total = run_due(alerts=alerts, debited=debited)
    _email_alerts(alerts)
    for user_id in debited:
        check_budgets.delay(str(user_id))
    return total
