"""Human ticket numbers (INC0000001) from PostgreSQL sequences.

A sequence never hands out the same value twice, even to concurrent transactions, and never blocks; a
rolled-back create leaves a gap, which is fine (numbers are unique and increasing, not dense). Each ticket
app creates its sequence in a migration with `CreateNumberSequence`.

A numbered model declares `number = number_field(NUMBER_PREFIX)`: the database fills the number in the
INSERT itself (a column default calling `itsm_next_number(prefix)`, returned by `INSERT ... RETURNING`),
so a create costs no separate `nextval` round trip. `next_numbers` reserves numbers ahead (bulk
loaders) through the same SQL function, so the format lives in one SQL function and its
Python twin `format_number` (used to read numbers typed by users), which a test keeps equal.
"""

from django.db import connection, migrations, models

NUMBER_WIDTH = 7


def sequence_name(prefix: str) -> str:
    return f"itsm_number_{prefix.lower()}_seq"


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{NUMBER_WIDTH}d}"


def number_field(prefix: str) -> models.CharField:
    """The `number` of a numbered model, given by the database from the prefix's sequence on INSERT."""
    return models.CharField(
        max_length=16,
        unique=True,
        editable=False,
        db_default=models.Func(
            models.Value(prefix), function="itsm_next_number", output_field=models.CharField()
        ),
    )


def next_numbers(prefix: str, count: int) -> list[str]:
    """Reserve `count` numbers in one round trip (bulk loaders and imports)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT itsm_next_number(%s) FROM generate_series(1, %s)", [prefix, count])
        return [row[0] for row in cursor.fetchall()]


class CreateNumberSequence(migrations.RunSQL):
    """Migration operation: `CreateNumberSequence("INC")` creates the sequence behind INC numbers."""

    def __init__(self, prefix: str):
        name = sequence_name(prefix)
        super().__init__(
            sql=f"CREATE SEQUENCE IF NOT EXISTS {name} START 1",
            reverse_sql=f"DROP SEQUENCE IF EXISTS {name}",
        )


class CreateNumberFunctions(migrations.RunSQL):
    """Migration operation: the SQL functions behind numbers. `itsm_format_number('INC', 42)` is
    'INC0000042' (zero-padded to NUMBER_WIDTH digits, never truncated); `itsm_next_number('INC')` formats
    the next value of the prefix's sequence."""

    def __init__(self):
        super().__init__(
            sql=f"""
                CREATE OR REPLACE FUNCTION itsm_format_number(prefix text, value bigint) RETURNS text
                LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                    SELECT prefix || lpad(value::text, greatest({NUMBER_WIDTH}, length(value::text)), '0')
                $$;
                CREATE OR REPLACE FUNCTION itsm_next_number(prefix text) RETURNS text
                LANGUAGE sql VOLATILE AS $$
                    SELECT itsm_format_number(prefix, nextval(('itsm_number_' || lower(prefix) || '_seq')::regclass))
                $$;
            """,
            reverse_sql="""
                DROP FUNCTION IF EXISTS itsm_next_number(text);
                DROP FUNCTION IF EXISTS itsm_format_number(text, bigint);
            """,
        )
