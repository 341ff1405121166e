"""The task worker's claim query with a million finished tasks in the table.

One row per email sent stays in django-tasks-db's table until it is pruned
(operations.services.task_results_prune, TASK_RESULT_RETENTION_DAYS). This
script fills a database of its own (``panel_bench_tasks`` on BENCH_PG_URL)
with 1,000,000 finished rows and a few ready ones, then measures:

- the claim query exactly as django-tasks-db's worker runs it (SELECT … FOR
  UPDATE SKIP LOCKED LIMIT 1 over the ready tasks): EXPLAIN (ANALYZE,
  BUFFERS) and the median of 200 runs;
- the queries of /health/ready and /metrics (queue depth, oldest ready task);
- the prune of the rows past their retention, and the claim again after it.

Run by hand: ``flock /tmp/heavy.lock .venv/bin/python bench/task_claim.py``;
the figures go to bench/results/task_claim.json.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.crash_harness import django_setup, prepare_database, write_result

DB_NAME = "panel_bench_tasks"


def fill(*, finished: int, ready: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE django_tasks_database_dbtaskresult")
        # Finished over the last 30 days, as a month of sent emails would be.
        cursor.execute(
            """
            INSERT INTO django_tasks_database_dbtaskresult
              (id, status, enqueued_at, started_at, finished_at, args_kwargs, priority,
               task_path, worker_ids, queue_name, backend_name, run_after, return_value,
               exception_class_path, traceback)
            SELECT gen_random_uuid(), 'SUCCESSFUL', t - interval '2 seconds',
                   t - interval '1 second', t,
                   jsonb_build_object('args', '[]'::jsonb, 'kwargs',
                                      jsonb_build_object('delivery_id', n)),
                   0, 'notifications.tasks.deliver_notification', '["w"]'::jsonb,
                   'default', 'default', '9999-01-01 00:00:00+00', '"sent"'::jsonb, '', ''
            FROM (SELECT n, now() - (n * interval '30 days' / %s) AS t
                  FROM generate_series(1, %s) AS n) AS rows
            """,
            [finished, finished],
        )
        cursor.execute(
            """
            INSERT INTO django_tasks_database_dbtaskresult
              (id, status, enqueued_at, args_kwargs, priority, task_path, worker_ids,
               queue_name, backend_name, run_after, exception_class_path, traceback)
            SELECT gen_random_uuid(), 'READY', now() - n * interval '1 second',
                   '{"args": [], "kwargs": {}}'::jsonb, 0,
                   'notifications.tasks.deliver_notification', '[]'::jsonb, 'default',
                   'default',
                   CASE WHEN n %% 2 = 0 THEN '9999-01-01 00:00:00+00'::timestamptz
                        ELSE now() + interval '1 hour' END,
                   '', ''
            FROM generate_series(1, %s) AS n
            """,
            [ready],
        )
        cursor.execute("VACUUM ANALYZE django_tasks_database_dbtaskresult")


def claim_sql() -> tuple[str, list]:
    """The worker's claim, as django-tasks-db builds it (db_worker.Worker.run)."""
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    tasks = (
        DBTaskResult.objects.ready()
        .filter(backend_name="default")
        .filter(queue_name__in=["default"])
        .select_for_update(skip_locked=True)
    )
    with transaction.atomic():  # FOR UPDATE is compiled only inside one
        sql, params = tasks[:1].query.sql_with_params()
    return sql, list(params)


def explain(sql: str, params: list) -> dict:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    top = plan[0] if isinstance(plan, list) else plan
    nodes = []

    def walk(node: dict) -> None:
        nodes.append(
            node.get("Node Type") + (f" ({node['Index Name']})" if "Index Name" in node else "")
        )
        for child in node.get("Plans", []):
            walk(child)

    walk(top["Plan"])
    return {
        "execution_ms": round(top["Execution Time"], 3),
        "planning_ms": round(top["Planning Time"], 3),
        "plan": nodes,
        "shared_buffers_hit": top["Plan"].get("Shared Hit Blocks"),
    }


def median_ms(sql: str, params: list, runs: int) -> float:
    from django.db import connection, transaction

    times = []
    for _ in range(runs):
        with transaction.atomic(), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    return round(statistics.median(times), 3)


def timed_ms(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--ready", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="panel-bench-tasks-"))
    prepare_database(DB_NAME, var_dir)
    django_setup(DB_NAME, var_dir)

    from operations import selectors, services

    started = time.monotonic()
    fill(finished=args.finished, ready=args.ready)
    fill_seconds = round(time.monotonic() - started, 1)
    sql, params = claim_sql()
    before = {
        "explain": explain(sql, params),
        "claim_median_ms": median_ms(sql, params, args.runs),
        "queue_stats_median_ms": timed_ms(selectors.task_queue_stats, args.runs),
    }
    started = time.monotonic()
    deleted = services.task_results_prune(finished_days=7, failed_days=30)
    prune_seconds = time.monotonic() - started
    after = {
        "explain": explain(sql, params),
        "claim_median_ms": median_ms(sql, params, args.runs),
        "queue_stats_median_ms": timed_ms(selectors.task_queue_stats, args.runs),
    }
    write_result(
        "task_claim",
        {
            "finished_rows": args.finished,
            "ready_rows": args.ready,
            "fill_seconds": fill_seconds,
            "claim_sql": sql,
            "with_all_rows": before,
            "prune": {
                "retention_days": 7,
                "rows_deleted": deleted,
                "seconds": round(prune_seconds, 1),
                "rows_per_second": round(deleted / prune_seconds) if prune_seconds else None,
            },
            "after_prune": after,
        },
    )


if __name__ == "__main__":
    main()
