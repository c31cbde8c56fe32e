"""Real Celery worker processes for the tests that prove a job survives two workers at once and
a worker killed half-way: each worker is a process of its own (``celery worker --pool solo``, as
in production), on a Redis broker whose keys are private to the test, against the test
database, sending its email where the test says (``EMAIL_URL``). Workers and broker keys are
removed whatever the outcome; the workers' logs are printed, so pytest shows them on a failure.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from celery import Celery
from django.conf import settings as django_settings
from django.db import connection

WORKER_SCRIPT = """
import sys
from icpc_portal.celery import app

url, prefix, name = sys.argv[1:4]
app.conf.update(
    broker_url=url,
    broker_read_url=url,
    broker_write_url=url,
    task_always_eager=False,
    broker_transport_options={"global_keyprefix": prefix},
)
app.worker_main(
    ["worker", "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
     "--without-heartbeat", "--hostname", name]
)
"""


def wait_for(condition: Callable[[], bool], seconds: float = 30, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Workers:
    """Celery worker processes on a broker of the test's own, and a client to queue tasks."""

    def __init__(self, broker_url: str, *, email_url: str, logs: Path, label: str) -> None:
        self.url = broker_url
        self.label = label
        self.prefix = f"{label}-test-{uuid.uuid4().hex}:"
        self.email_url = email_url
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []
        self.client = Celery(f"{label}-tests", set_as_current=False)
        self.client.conf.update(
            # The read and write URLs come before CELERY_BROKER_URL of the environment.
            broker_url=broker_url,
            broker_read_url=broker_url,
            broker_write_url=broker_url,
            broker_transport_options={"global_keyprefix": self.prefix},
            task_serializer="json",
        )

    def start(self) -> subprocess.Popen[bytes]:
        """A worker process, once it is ready to take tasks."""
        name = f"{self.label}-{len(self.processes)}-{uuid.uuid4().hex[:8]}@%h"
        log_path = self.logs / f"worker-{len(self.processes)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.url,
            "EMAIL_URL": self.email_url,
            "CONN_MAX_AGE": "0",
        }
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", WORKER_SCRIPT, self.url, self.prefix, name],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        ready = wait_for(lambda: b" ready." in log_path.read_bytes() or process.poll() is not None)
        assert ready and process.poll() is None, log_path.read_text(errors="replace")[-3000:]
        return process

    def queue(self, task: str, *args, **kwargs) -> None:
        self.client.send_task(task, args=list(args), kwargs=kwargs)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: the worker dies at once, as on an out-of-memory kill or a lost machine."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def idle(self) -> bool:
        """No task waits in the queue or runs (acks_late: acknowledged once it has run)."""
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            return not client.llen(f"{self.prefix}celery") and not client.hlen(
                f"{self.prefix}unacked"
            )
        finally:
            client.close()

    def stop_all(self) -> None:
        import redis

        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill(process)
        self.client.close()
        for path in sorted(self.logs.glob("worker-*.log")):  # shown by pytest on a failure
            print(f"--- {path.name} ---\n{path.read_text(errors='replace')[-4000:]}")
        client = redis.Redis.from_url(self.url)
        try:
            for key in client.scan_iter(match=f"{self.prefix}*"):
                client.delete(key)
        finally:
            client.close()
