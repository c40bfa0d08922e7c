"""Time the agent incident list page with the code of one tree against an existing database (a child process
of bench/incidents_reads.py, so two trees, say before and after a change, are timed on the same million
rows in one run).

    python bench/list_page_probe.py --tree /path/to/checkout --database-url postgres://.../test_itsm_x \
        --username load-agent-03-01 --samples 100

Prints one JSON object: the server times (Django's test client, in process) of the API list read by
bench/incidents_reads.py, of `/incidents/` and of the same page filtered by group, and the SQL statements
each makes.
"""

import argparse
import json
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    os.chdir(args.tree)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings.test")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username=args.username))
    out = {"tree": args.tree}
    for key, url in (
        ("api_list", "/api/v1/incidents/?state=in_progress&assignment_group=load-group-03&page_size=50"),
        ("list_page", "/incidents/"),
        ("list_page_group", "/incidents/?view=open&assignment_group=load-group-03&page_size=50"),
    ):
        assert client.get(url).status_code == 200  # warm up
        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, *rest: queries.append(sql) or execute(sql, *rest)
        ):
            client.get(url)
        times = []
        for _ in range(args.samples):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        times.sort()
        out[f"{key}_ms"] = times
        out[f"{key}_queries"] = len(queries)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
