"""A throwaway PostgreSQL primary and streaming replica in temporary folders, on free ports.

Made from the machine's PostgreSQL binaries (initdb, pg_ctl, pg_basebackup); the machine's
own PostgreSQL service is left alone. ``initdb`` refuses to run as root, so as root the
clusters run as the ``postgres`` OS user. Used by tests/replica/ and benchmarks/replica_lag.py.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "destreg"


def missing() -> str:
    """Why no pair can be made here ("" when one can)."""
    for tool in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (BIN / tool).exists():
            return f"{BIN / tool} is missing (PostgreSQL 15 server binaries)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres OS user to run initdb as"
        if not shutil.which("runuser"):
            return "running as root without runuser"
    return ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Pair:
    root: Path
    primary_port: int = 0
    replica_port: int = 0
    started: list[Path] = field(default_factory=list)

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def replica_dir(self) -> Path:
        return self.root / "replica"

    def url(self, port: int, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def connect(self, port: int, database: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname=database, autocommit=True
        )

    def lag_seconds(self) -> float:
        """Seconds the replica's replay is behind (0 when it replayed all it received)."""
        with self.connect(self.replica_port) as conn:
            row = conn.execute(
                "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
                " ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
            ).fetchone()
        return float(row[0] or 0) if row else 0.0

    def wait_caught_up(self, timeout: float = 20) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with self.connect(self.primary_port) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        target = row[0] if row else "0/0"
        deadline = time.monotonic() + timeout
        with self.connect(self.replica_port) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
                ).fetchone()
                if row and row[0]:
                    return
                time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str]) -> None:
    subprocess.run(  # noqa: S603 (the PostgreSQL binaries, fixed arguments)
        _as_owner(command), check=True, capture_output=True, timeout=60
    )


def _start(pair: Pair, data: Path, port: int) -> None:
    _run(
        [
            str(BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(pair.root / f"{data.name}.log"),
            "-w",
            "-t",
            "30",
            "-o",
            f"-p {port} -k {pair.root} -c listen_addresses=127.0.0.1",
            "start",
        ]
    )
    pair.started.append(data)


def make_pair(*, settings: dict[str, str] | None = None) -> Pair:
    """initdb a primary, start it, pg_basebackup -R a replica from it, start that, and wait
    until the primary sees it streaming. ``settings``: more postgresql.conf lines."""
    root = Path(tempfile.mkdtemp(prefix="destreg-replica-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    root.chmod(0o700)
    pair = Pair(root, free_port(), free_port())
    try:
        _run(
            [
                str(BIN / "initdb"),
                "-D",
                str(pair.primary_dir),
                "-U",
                "postgres",
                "--auth=trust",  # only on 127.0.0.1 and the folder's socket, for a test
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        conf = {
            "wal_level": "replica",
            "max_wal_senders": "5",
            "hot_standby": "on",
            "fsync": "off",  # a throwaway cluster: nothing to keep after a crash
            "full_page_writes": "off",
            "shared_buffers": "64MB",
            **(settings or {}),
        }
        with (pair.primary_dir / "postgresql.conf").open("a") as handle:
            handle.writelines(f"{key} = '{value}'\n" for key, value in conf.items())
        # initdb's pg_hba.conf trusts local replication connections already.
        _start(pair, pair.primary_dir, pair.primary_port)
        with pair.connect(pair.primary_port, "postgres") as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        _run(
            [
                str(BIN / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(pair.primary_port),
                "-U",
                "postgres",
                "-D",
                str(pair.replica_dir),
                "-R",  # standby.signal and primary_conninfo: a streaming replica
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ]
        )
        _start(pair, pair.replica_dir, pair.replica_port)
        deadline = time.monotonic() + 30
        with pair.connect(pair.primary_port, "postgres") as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.1)
            else:
                raise TimeoutError("the replica is not streaming")
    except BaseException:
        stop_pair(pair)
        raise
    return pair


def stop_pair(pair: Pair) -> None:
    """Stop both servers (replica first) and remove their folders."""
    for data in reversed(pair.started):
        subprocess.run(  # noqa: S603 (fixed arguments)
            _as_owner([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
            check=False,
        )
    pair.started.clear()
    shutil.rmtree(pair.root, ignore_errors=True)
