"""Human ticket numbers (INC0000001) from PostgreSQL sequences.

A sequence never hands out the same value twice, even to concurrent transactions, and never blocks; a
rolled-back create leaves a gap, which is fine (numbers are unique and increasing, not dense). Each ticket
app creates its sequence in a migration with `CreateNumberSequence`.
"""

from django.db import connection, migrations

NUMBER_WIDTH = 7


def sequence_name(prefix: str) -> str:
    return f"itsm_number_{prefix.lower()}_seq"


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{NUMBER_WIDTH}d}"


def next_number(prefix: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence_name(prefix)])
        return format_number(prefix, cursor.fetchone()[0])


def next_numbers(prefix: str, count: int) -> list[str]:
    """Reserve `count` numbers in one round trip (bulk loaders and imports)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence_name(prefix), count])
        return [format_number(prefix, row[0]) for row in cursor.fetchall()]


class CreateNumberSequence(migrations.RunSQL):
    """Migration operation: `CreateNumberSequence("INC")` creates the sequence behind INC numbers."""

    def __init__(self, prefix: str):
        name = sequence_name(prefix)
        super().__init__(
            sql=f"CREATE SEQUENCE IF NOT EXISTS {name} START 1",
            reverse_sql=f"DROP SEQUENCE IF EXISTS {name}",
        )
