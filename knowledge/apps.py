from django.apps import AppConfig
from django.db.backends.signals import connection_created

# pg_trgm's default word-similarity threshold (0.6) misses a swapped pair of letters in a short word
# ("pritner" vs "Printer offline" scores 0.375). The fallback only runs when the words match nothing. The `%>` operator, the only form the trigram index serves,
# reads this session setting, so it is set once per connection. Only knowledge search uses `%>`.
WORD_SIMILARITY_THRESHOLD = "0.35"


def _set_trigram_threshold(sender, connection, **kwargs) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
                [WORD_SIMILARITY_THRESHOLD],
            )


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Knowledge"

    def ready(self) -> None:
        connection_created.connect(_set_trigram_threshold, dispatch_uid="knowledge_trigram_threshold")
