"""Knowledge and agent-wide search under volume: `pytest bench/knowledge_search.py -s`.

Bulk-inserts KB_BENCH_ARTICLES articles (default 50,000) and KB_BENCH_INCIDENTS incidents (default
1,000,000, the issue's target; the incidents are generated inside PostgreSQL with generate_series, and the
incidents' GIN index is built once after the load, which keeps the load to a few minutes on two cores),
then times the article search endpoint (`/api/v1/kb/articles/?search=`, page of 25, with snippets), the
portal suggestions and the agents' `/search/` page over a fixed mix of common, rare, multi-word, typo,
number, no-match and syntax queries. Prints p50/p95 and the EXPLAIN ANALYZE of the search queries, and
appends one JSON line to bench/results/knowledge.json.

The text is realistic for search: a vocabulary of VOCABULARY words (a few dozen IT words among generated
ones) drawn with a Zipf distribution (word k has frequency ~1/k), titles of 4-8 words. A tiny vocabulary
would make every word match most rows, which no real knowledge base or ticket history does.
incidents' generate_load_data is not used: its twelve subjects share about thirty words.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

sys.path.insert(0, str(Path(__file__).parent))
from results import write  # noqa: E402

ARTICLES = int(os.environ.get("KB_BENCH_ARTICLES", "50000"))
INCIDENTS = int(os.environ.get("KB_BENCH_INCIDENTS", "1000000"))
ROUNDS = 5
VOCABULARY = 4000
_IT_TEXT = (
    "printer network vpn password email outlook mailbox wifi laptop monitor keyboard server database backup "
    "restore disk memory cpu firewall certificate expired login account locked reset token browser cache "
    "proxy dns dhcp router switch cable driver update install license software crash freeze slow error "
    "timeout permission share folder drive sync calendar meeting phone headset camera audio video ticket "
    "invoice payroll report dashboard export import upload download storage quota archive policy security "
    "phishing malware antivirus patch reboot shutdown battery charger dock display resolution"
)
IT_WORDS = _IT_TEXT.split()
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ar", "en", "ol")]


def _vocabulary() -> list[str]:
    """VOCABULARY distinct words in Zipf rank order; the IT words sit at ranks 20 to ~1,600."""
    rng = random.Random(80)
    made: list[str] = []
    seen = set(IT_WORDS)
    while len(made) < VOCABULARY - len(IT_WORDS):
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            made.append(word)
    words = made[:20]
    rest = made[20:]
    for index, word in enumerate(IT_WORDS):
        words.append(word)
        words.extend(rest[index * 19 : (index + 1) * 19])
    words.extend(rest[len(IT_WORDS) * 19 :])
    return words


WORDS = _vocabulary()
CUMULATIVE = []
_total = 0.0
for _rank in range(1, len(WORDS) + 1):
    _total += 1 / _rank
    CUMULATIVE.append(_total)
QUERIES = [
    "printer",
    "vpn token",
    "password reset",
    "outlook mailbox quota",
    "pritner",
    "certificate expired browser",
    "zzzunmatched",
    "dock display resolution",
    "KB0000042",
    "INC0000042",
    "&|!():*'\"",
    "network",
]


def _text(rng: random.Random, count: int) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=CUMULATIVE, k=count))


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def load(articles: int, incidents: int) -> dict:
    """Bulk-insert the articles and incidents (see the module docstring); returns the load times."""
    from accounts.models import User
    from core.numbering import next_numbers
    from knowledge.models import Article

    rng = random.Random(8)
    author = User.objects.create_user("kb_bench_author", password="pw")
    with connection.cursor() as cursor:
        # GIN indexes are built once after the load (as a restore would), not row by row.
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('knowledge_article', "
            "'incidents_incident') AND indexdef LIKE '%%USING gin%%'"
        )
        gin_indexes = cursor.fetchall()
        for name, _ in gin_indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    numbers = next_numbers("KB", articles)
    batch = [
        Article(
            number=number,
            title=_text(rng, rng.randint(4, 8)).capitalize(),
            body="\n\n".join(_text(rng, rng.randint(20, 60)) for _ in range(rng.randint(2, 6))),
            state="published" if index % 10 else "draft",
            audience="everyone" if index % 4 else "agents",
            author=author,
        )
        for index, number in enumerate(numbers)
    ]
    Article.objects.bulk_create(batch, batch_size=2000)
    articles_seconds = time.perf_counter() - started
    started = time.perf_counter()
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    pick = f"w[floor(exp(random() * ln({len(WORDS)} + 1)))::int]"  # Zipf: P(k) ~ 1/k
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO incidents_incident (number, short_description, description, state, priority,
                opened_by_id, opened_at, updated_at, version, impact, urgency, major, hold_reason,
                resolution_code, resolution_notes)
            SELECT 'INC' || lpad(g::text, 7, '0'),
                   initcap(array_to_string(ARRAY(SELECT {pick} FROM generate_series(1, 4 + g %% 5 + 0 * g)), ' ')),
                   array_to_string(ARRAY(SELECT {pick} FROM generate_series(1, 10 + g %% 21 + 0 * g)), ' '),
                   (ARRAY['new','in_progress','on_hold','resolved','closed'])[1 + g %% 5], 1 + g %% 5,
                   %s, now() - (g || ' minutes')::interval, now(), 1, 3, 3, false, '', '', ''
            FROM generate_series(1, %s) AS g, (SELECT {words} AS w) AS v
            """,
            [author.pk, incidents],
        )
        incidents_seconds = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in gin_indexes:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("SELECT setval('itsm_number_inc_seq', %s)", [incidents + 1])
        # A steady state: autovacuum would have set the visibility map and statistics by now.
        cursor.execute("VACUUM ANALYZE incidents_incident")
        cursor.execute("VACUUM ANALYZE knowledge_article")
    return {
        "articles_load_s": round(articles_seconds, 1),
        "incidents_load_s": round(incidents_seconds, 1),
        "gin_build_and_vacuum_s": round(time.perf_counter() - started, 1),
    }


@pytest.fixture
def volume(django_db_blocker, django_db_setup):
    with django_db_blocker.unblock():
        return load(ARTICLES, INCIDENTS)


@pytest.mark.django_db(transaction=True)
def test_search_latency(volume, client):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import AGENT

    agent = User.objects.create_user("kb_bench_agent", password="pw")
    agent.groups.add(Group.objects.get_or_create(name=AGENT)[0])
    requester = User.objects.create_user("kb_bench_requester", password="pw")

    def timed(user, url, params) -> list[float]:
        client.force_login(user)
        client.get(url, params)  # warm caches and the plan
        samples = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            response = client.get(url, params)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, params)
        return samples

    article_ms: list[float] = []
    suggest_ms: list[float] = []
    global_ms: list[float] = []
    per_query = {}
    for query in QUERIES:
        a = timed(agent, "/api/v1/kb/articles/", {"search": query, "page_size": 25})
        a += timed(requester, "/api/v1/kb/articles/", {"search": query, "page_size": 25})
        s = timed(requester, "/api/v1/kb/suggest/", {"q": query})
        g = timed(agent, "/search/", {"q": query})
        article_ms += a
        suggest_ms += s
        global_ms += g
        per_query[query] = {
            "article_p95": round(_percentile(a, 95), 1),
            "global_p95": round(_percentile(g, 95), 1),
        }

    plans = {}
    # A common word (PostgreSQL rightly reads rows in order until the LIMIT) and rare ones (GIN bitmap scans).
    for label, user, url, params in (
        ("article_common", agent, "/api/v1/kb/articles/", {"search": "network", "page_size": 25}),
        ("article_rare", agent, "/api/v1/kb/articles/", {"search": "dock display", "page_size": 25}),
        ("global_common", agent, "/search/", {"q": "network"}),
        ("global_rare", agent, "/search/", {"q": "dock display resolution"}),
    ):
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            client.get(url, params)
        for index, query in enumerate(captured.captured_queries):
            sql = query["sql"]
            if sql.lstrip("(").startswith("SELECT") and any(
                marker in sql for marker in ("search_vector", "title_vector", "%>")
            ):
                plan = _explain(sql)
                plans[f"{label}_{index}"] = plan
                print(f"\n--- {label} query {index}: {sql[:300]}...\n{plan}")
    index_scans = sorted(
        {
            line.split(" on ")[1].split()[0]
            for plan in plans.values()
            for line in plan.splitlines()
            if "Index Scan on" in line
        }
    )

    result = {
        "bench": "knowledge_search",
        "articles": ARTICLES,
        "incidents": INCIDENTS,
        **volume,
        "article_search_p50_ms": round(statistics.median(article_ms), 1),
        "article_search_p95_ms": round(_percentile(article_ms, 95), 1),
        "suggest_p95_ms": round(_percentile(suggest_ms, 95), 1),
        "global_search_p50_ms": round(statistics.median(global_ms), 1),
        "global_search_p95_ms": round(_percentile(global_ms, 95), 1),
        "targets_ms": {"article_search_p95": 50, "global_search_p95": 150},
        "per_query": per_query,
        "vocabulary": len(WORDS),
        "index_scans_in_plans": index_scans,
    }
    write("knowledge", result)
