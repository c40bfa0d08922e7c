"""Numbers come from PostgreSQL sequences: unique and increasing even under concurrent creates."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from core.numbering import format_number, next_numbers
from incidents.models import Incident
from incidents.services import incident_create


def test_format_number_is_zero_padded():
    assert format_number("INC", 42) == "INC0000042"


@pytest.mark.django_db
@pytest.mark.parametrize("value", [1, 42, 9_999_999, 10_000_000, 123_456_789_012])
def test_the_database_formats_numbers_as_python_reads_them(value):
    """Creates take their number from the SQL function itsm_next_number; users' typed numbers are read
    with format_number. Both must agree, also past seven digits (padded, never truncated)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT itsm_format_number('INC', %s)", [value])
        assert cursor.fetchone()[0] == format_number("INC", value)


@pytest.mark.django_db
def test_a_create_takes_its_number_in_the_insert(make_user):
    """No separate nextval round trip: the INSERT fills the number and returns it to the instance."""
    user = make_user("caller")
    first = incident_create(actor=user, short_description="first")
    second = incident_create(actor=user, short_description="second")
    assert first.number.startswith("INC") and len(first.number) == 10
    assert int(second.number[3:]) > int(first.number[3:])
    assert Incident.objects.get(pk=second.pk).number == second.number
    reserved = next_numbers("INC", 2)  # reservations come from the same sequence, after the creates
    assert int(reserved[0][3:]) > int(second.number[3:])


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_creates_get_distinct_increasing_numbers(make_user):
    """10 threads each open 5 incidents one after another: 50 distinct numbers, and every thread sees its
    own numbers increase (creation order across concurrent transactions is not defined, gaps are fine)."""
    user = make_user("caller")

    def create_five(worker: int) -> list[str]:
        try:
            return [
                incident_create(actor=user, short_description=f"parallel {worker}.{i}").number
                for i in range(5)
            ]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        per_worker = list(pool.map(create_five, range(10)))

    numbers = [number for batch in per_worker for number in batch]
    assert len(set(numbers)) == 50
    assert sorted(Incident.objects.values_list("number", flat=True)) == sorted(numbers)
    for batch in per_worker:
        assert batch == sorted(batch)


@pytest.mark.django_db
def test_reserving_numbers_in_bulk_never_overlaps_single_numbers():
    batch = next_numbers("INC", 5)
    assert len(set(batch)) == 5
    assert all(n.startswith("INC") for n in batch)
