import threading

import pytest
from django.db import DatabaseError, connection

from core.tenancy import tenant

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_creations_get_fifty_distinct_numbers():
    from support import services
    from support.models import SupportTicket
    from testutils.testing import make_user

    users = [make_user(f"n{i}@example.com") for i in range(5)]
    numbers, errors = [], []
    barrier = threading.Barrier(10)

    def work(worker):
        try:
            barrier.wait()
            for i in range(5):
                user = users[(worker + i) % 5]
                with tenant(user.id):
                    ticket = services.ticket_create(user=user, title=f"T {worker}-{i}", description="concurrent")
                numbers.append(ticket.ticket_number)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(numbers) == 50 and len(set(numbers)) == 50
    assert all(n.startswith("T-") and len(n) == 8 for n in numbers)
    total = 0
    for user in users:
        with tenant(user.id):
            total += SupportTicket.objects.count()
    assert total == 50


def test_a_number_never_changes(owner):
    from support.models import SupportTicket
    from testutils import factories

    ticket = factories.make("support_tickets", owner)
    with tenant(owner.id):
        ticket.refresh_from_db()
    assert ticket.ticket_number.startswith("T-")
    with pytest.raises(DatabaseError, match="never changes"), tenant(owner.id):
        SupportTicket.objects.filter(pk=ticket.pk).update(ticket_number="T-999999")
    with tenant(owner.id):
        assert SupportTicket.objects.get(pk=ticket.pk).ticket_number == ticket.ticket_number
