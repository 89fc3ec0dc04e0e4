"""A Spark standalone cluster on the loopback, started from the PySpark installation itself.

For the tests, the benchmarks and anyone who wants to try the cluster path on one machine
(docs/spark.md): a master and N workers, each a JVM run from PySpark's own ``jars/`` (no Spark
download, no system ``SPARK_HOME``), each leading its own process group so that stopping it
also ends the executors its workers spawned::

    with LoopbackCluster(Path("/tmp/spark-cluster"), workers=2) as cluster:
        os.environ.update(cluster.driver_env())
        ...  # itsm-doctor examine … --engine spark --spark-master {cluster.url}

    python -m itsm_doctor.spark_cluster [--workers 2] [--memory 1g]   # until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["ClusterError", "LoopbackCluster"]

LOG4J = Path(__file__).with_name("spark-log4j2.properties")


class ClusterError(Exception):
    """The cluster could not be started (no Java, no PySpark, a daemon died, or it timed out)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class LoopbackCluster:
    """A master and ``workers`` workers (``cores`` cores and ``memory`` each) on 127.0.0.1;
    daemon logs and the workers' work folders under ``root``."""

    def __init__(
        self,
        root: Path,
        *,
        workers: int = 2,
        cores: int = 1,
        memory: str = "1g",
        daemon_heap: str = "256m",
        timeout: float = 180.0,
    ) -> None:
        self.root = root
        self.workers, self.cores, self.memory, self.daemon_heap = workers, cores, memory, daemon_heap
        self.timeout = timeout
        self.port = self.web_port = 0
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @staticmethod
    def pyspark_home() -> Path:
        try:
            import pyspark
        except ImportError as exc:
            raise ClusterError("pyspark is not installed (extra 'spark')") from exc
        return Path(pyspark.__file__).parent

    def driver_env(self) -> dict[str, str]:
        """What a driver on this machine needs beside ``--spark-master``: the loopback address,
        and the Python the executors would start for Python code."""
        return {"SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}

    def state(self) -> dict[str, Any]:
        """The master's own account (``/json`` of its web UI): workers, running and completed apps."""
        with urllib.request.urlopen(f"{self.web}/json", timeout=5) as reply:
            return json.loads(reply.read())  # type: ignore[no-any-return]

    def alive_workers(self) -> int:
        try:
            return sum(w["state"] == "ALIVE" for w in self.state()["workers"])
        except OSError:  # the master's web UI is not listening yet
            return 0

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def start(self) -> LoopbackCluster:
        java = shutil.which("java")
        if java is None:
            raise ClusterError("no Java runtime on PATH (Spark runs on it)")
        home = self.pyspark_home()
        self.root.mkdir(parents=True, exist_ok=True)
        # workers build their executors' command line from SPARK_HOME, and need the Scala version
        # a Spark distribution's layout would tell (pyspark's jars name it: spark-launcher_2.13-…)
        launcher = sorted((home / "jars").glob("spark-launcher_*.jar"))
        scala = launcher[0].name.split("_", 1)[1].split("-", 1)[0] if launcher else "2.13"
        env = {**os.environ, "SPARK_HOME": str(home), "SPARK_SCALA_VERSION": scala, **self.driver_env()}
        self.port, self.web_port = _free_port(), _free_port()
        base = [java, f"-Xmx{self.daemon_heap}", f"-Dlog4j2.configurationFile={LOG4J.as_uri()}", "-cp"]
        base.append(str(home / "jars" / "*"))
        master = ["--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.web_port)]
        daemons = [[*base, "org.apache.spark.deploy.master.Master", *master]]
        for i in range(1, self.workers + 1):
            work = self.root / f"worker-{i}"
            work.mkdir(exist_ok=True)
            worker = ["--host", "127.0.0.1", "--cores", str(self.cores), "--memory", self.memory]
            worker += ["--webui-port", str(_free_port()), "--work-dir", str(work)]
            daemons.append([*base, "org.apache.spark.deploy.worker.Worker", self.url, *worker])
        try:
            for i, cmd in enumerate(daemons):
                with (self.root / f"daemon-{i}.log").open("wb") as log:
                    self.procs.append(
                        subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
                    )
            deadline = time.monotonic() + self.timeout
            while (alive := self.alive_workers()) < self.workers:
                dead = [i for i, p in enumerate(self.procs) if p.poll() is not None]
                if dead or time.monotonic() > deadline:
                    logs = "\n".join(
                        (self.root / f"daemon-{i}.log").read_text(errors="replace")[-1500:] for i in range(len(daemons))
                    )
                    why = f"daemon(s) {dead} exited" if dead else f"not up after {self.timeout:.0f} s"
                    raise ClusterError(f"the Spark cluster did not come up ({why}; {alive} worker(s) alive):\n{logs}")
                time.sleep(1)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> list[int]:
        """Each daemon's process group (a worker's executors with it): TERM, then KILL after 30 s.
        Returns the process groups still alive afterwards (none, normally)."""
        for proc in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # a group outlives its leader while a member (an executor) is still exiting
        deadline = time.monotonic() + 10
        while (left := [p.pid for p in self.procs if _group_alive(p.pid)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.procs = []
        return left

    def __enter__(self) -> LoopbackCluster:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A Spark standalone cluster on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--memory", default="1g", help="memory each worker offers to executors")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="itsm-spark-cluster-"))
    try:
        with LoopbackCluster(root, workers=args.workers, cores=args.cores, memory=args.memory) as cluster:
            print(f"master {cluster.url} (web UI {cluster.web}); logs in {root}", flush=True)
            print(f"SPARK_LOCAL_IP=127.0.0.1 itsm-doctor examine … --engine spark --spark-master {cluster.url}")
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - a manual tool
    raise SystemExit(main())
