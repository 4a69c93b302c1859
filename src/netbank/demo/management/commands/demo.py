"""`netbank demo`: the whole bank on this machine with one command.

Creates the data folder, migrates, creates the bank's signing key if missing and
writes the token app's install configuration next to it, seeds the demo (customers,
accounts, demo0002's OTP, helpdesk operators), then runs a mail catcher (SMTP on
loopback, mail kept as .eml and shown at /demo/mail/), the bank's worker (mail
delivery and every periodic job, as ``netbank worker`` runs them) in a thread and a
waitress WSGI server, until Ctrl-C or SIGTERM stops them all and the command exits 0.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import ipaddress
import logging
import os
import shlex
import signal
import socket
import sys
import threading
import unicodedata
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import clear_url_caches

from netbank.config.env import data_dir
from netbank.ops.worker.locks import WorkerAlreadyRunningError, sole_worker
from netbank.ops.worker.runner import Runner
from netbank.ops.worker.schedule import DAY, Job, worker_jobs

WSGI_THREADS = 8
# The demo's mail arrives in the caught-mail page within a second or two.
MAIL_PERIOD_SECONDS = 1
WORKER_TURN_SECONDS = 0.5
WORKER_STOP_TIMEOUT = 30.0
# The token app's folder inside the data folder: its install configuration, and the
# vault of a visitor who points NETBANK_TOKEN_HOME at it.
TOKEN_APP_DIR = "token-app"  # noqa: S105 - a folder name, not a secret


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Columns aligned for a terminal, counting full-width characters as two."""
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - _display_width(cell)) for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def _url_host(host: str) -> str:
    """The host as a browser should be sent to it.

    "localhost" wherever the server answers on loopback: a browser treats it as a secure
    context, as it does 127.0.0.1 (service workers, WebCrypto), and, unlike an IP
    address, accepts it as a WebAuthn relying party id, so passkeys work in the demo.
    """
    if host in {"0.0.0.0", "", "::"} or _is_loopback(host):  # noqa: S104 - naming, not binding
        return "localhost"
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port_free(host: str, port: int, what: str, option: str) -> None:
    """Fail before the slow steps if a port is taken (the real bind comes later)."""
    if port == 0:
        return
    try:
        _bind(host, port).close()
    except OSError as exc:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise CommandError(
            f"{what} のポート {where} を使用できません ({exc.strerror}). "
            f"Port {where} for the {what} is not available; choose another with {option}."
        ) from exc


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _also_ipv6_loopback(host: str) -> bool:
    """Whether the server also answers on [::1] at its port.

    The printed URL says "localhost", which a browser may try on ::1 first: answering
    there too means no refused first attempt, and no other program on [::1] at the same
    port answering in the bank's place. Only for an IPv4 loopback or wildcard address,
    and only where this machine has an IPv6 loopback at all.
    """
    if host not in {"127.0.0.1", "0.0.0.0"}:  # noqa: S104 - naming the wildcard
        return False
    try:
        _bind("::1", 0).close()
    except OSError:
        return False
    return True


def install_config_write(folder: Path) -> Path:
    """The token app's install configuration for this demo bank, in ``folder``.

    The same format ``netbank create-signing-key --install-config`` writes (read by
    netbank.token_app.install_config; the server does not import the app). Written at
    every start because the bank's URL follows --host and --port; left alone when
    nothing changed.
    """
    from netbank.otp.activation.install import install_config_json

    text = install_config_json()
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    path = folder / "install.json"
    if path.exists() and path.read_text("utf-8") == text:
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
    return path


def _token_app_command(folder: Path) -> str:
    """How to start the token app against this demo, as a line to copy."""
    script = Path(sys.executable).with_name("netbank-token")
    program = str(script) if script.exists() else "netbank-token"
    return f"NETBANK_TOKEN_HOME={shlex.quote(str(folder))} {shlex.quote(program)}"


class Command(BaseCommand):
    help = (
        "Run the demo bank: migrate, seed, mail catcher, the worker (mail and periodic jobs) "
        "and web server."
    )

    # The checks import the URLconf; they run in handle() once the demo flags are set.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="web server address")
        parser.add_argument("--port", type=int, default=8000, help="web server port")
        parser.add_argument("--smtp-port", type=int, default=2525, help="mail catcher port")

    _say_lock = threading.Lock()

    def say(self, text: str = "") -> None:
        # The worker prints from its own thread.
        with self._say_lock:
            self.stdout.write(text)
            self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("netbank demo never runs with NETBANK_ENV=production.")
        # The mail catcher and the WSGI server are the demo extra's, not the bank's
        # (production installs neither): say so rather than fail on an import.
        missing = [
            name for name in ("aiosmtpd", "waitress") if importlib.util.find_spec(name) is None
        ]
        if missing:
            raise CommandError(
                f"netbank demo needs the demo extra ({', '.join(missing)} not installed): "
                "run ./bin/demo, or pip install 'netbank-otp[demo]'."
            )
        from netbank.demo.mailcatcher import MailCatcher

        host: str = options["host"]
        port: int = options["port"]
        smtp_port: int = options["smtp_port"]
        for value, option in ((port, "--port"), (smtp_port, "--smtp-port")):
            if not 0 <= value <= 65535:
                raise CommandError(f"{option} must be between 0 and 65535")

        folder = data_dir()
        mailbox = folder / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        self._configure(host=host, port=port, mailbox=mailbox)
        _check_port_free(host, port, "Web", "--port")
        if _also_ipv6_loopback(host):
            _check_port_free("::1", port, "Web", "--port")
        _check_port_free("127.0.0.1", smtp_port, "SMTP", "--smtp-port")

        # Ctrl-C and SIGTERM both raise KeyboardInterrupt, which ends waitress's loop (or
        # any step before it) and leads to the clean stop below. Set explicitly: a shell
        # starts background jobs with SIGINT ignored, and Python then keeps it ignored.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        catcher = MailCatcher(folder=mailbox, port=smtp_port)
        stop = threading.Event()
        worker: threading.Thread | None = None
        server: Any = None
        held = ExitStack()
        try:
            self.check(display_num_errors=False)
            self.say("データベースを準備しています / Migrating the database …")
            call_command("migrate", interactive=False, verbosity=0)
            self._signing_key()
            token_app_dir = folder / TOKEN_APP_DIR
            install_config_write(token_app_dir)
            from netbank.demo.seed import seed_all

            for note in seed_all():
                self.say(f"  {note}")

            try:
                catcher.start()
            except OSError as exc:
                raise CommandError(
                    f"SMTP port 127.0.0.1:{smtp_port} is not available ({exc}); "
                    "choose another with --smtp-port."
                ) from exc
            settings.EMAIL_PORT = catcher.port

            try:
                held.enter_context(sole_worker())
            except WorkerAlreadyRunningError as exc:
                raise CommandError(f"{exc}: stop `netbank worker` first.") from None
            jobs = worker_jobs(mail_period=MAIL_PERIOD_SECONDS)
            runner = Runner(jobs, stop=stop, say=self.say, turn_seconds=WORKER_TURN_SECONDS)
            worker = threading.Thread(target=runner.run_forever, name="netbank-worker", daemon=True)
            worker.start()

            server = self._create_server(host, port)
            real_port = _server_port(server)
            if port == 0 and not os.environ.get("NETBANK_PUBLIC_URL"):
                # The OS chose the port only now: the app's configuration follows it.
                settings.NETBANK_PUBLIC_URL = f"http://{_url_host(host)}:{real_port}"
                install_config_write(token_app_dir)
            self._banner(host, real_port, mailbox, catcher.port, folder, token_app_dir, jobs)
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C must not break the clean stop half-way.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            if server is not None:
                server.task_dispatcher.shutdown()  # already done if run() was reached
                server.close()
            stop.set()
            if worker is not None:
                worker.join(timeout=WORKER_STOP_TIMEOUT)
            held.close()
            catcher.stop()
        self.say("デモを停止しました / Demo stopped.")

    def _configure(self, *, host: str, port: int, mailbox: Path) -> None:
        """Point mail at the catcher and switch on the demo pages, before any URL import."""
        settings.NETBANK_DEMO_MAILBOX = str(mailbox)
        # The banner says where everything is; per-connection chatter would bury it, and the
        # worker's own log line for every run ("executed 0" each minute) repeats what it says
        # in the console when there is news.
        for name in ("waitress", "mail.log", "netbank.ops.worker.runner"):
            logging.getLogger(name).setLevel(logging.WARNING)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        if port and not os.environ.get("NETBANK_PUBLIC_URL"):
            settings.NETBANK_PUBLIC_URL = f"http://{_url_host(host)}:{port}"
        allowed = list(settings.ALLOWED_HOSTS)
        if not _is_loopback(host):
            allowed = ["*"]  # reachable by address or name: the demo is not for production
        else:
            # The printed name and the addresses it stands for. (Over http, Django's CSRF
            # check compares the Origin with the request's own host: no trusted origins
            # are needed for either name.)
            for name in (host, "localhost", "127.0.0.1", "[::1]"):
                if name not in allowed:
                    allowed.append(name)
        settings.ALLOWED_HOSTS = allowed
        # The URLconf may have been imported before the flag was set.
        module = sys.modules.get(str(settings.ROOT_URLCONF))
        if module is not None:
            importlib.reload(module)
        clear_url_caches()

    def _signing_key(self) -> None:
        key_file = Path(str(settings.NETBANK_SIGNING_KEY_FILE))
        if key_file.exists():
            return
        commands = get_commands()
        name = next(
            (n for n in ("create-signing-key", "create_signing_key") if n in commands), None
        )
        if name is None:
            self.say("（署名鍵コマンドがありません / no signing-key command; skipped）")
            return
        out = io.StringIO()
        call_command(name, stdout=out)
        for line in out.getvalue().splitlines():
            self.say(f"  {line}")

    def _create_server(self, host: str, port: int) -> Any:
        # No stubs for waitress (types-waitress is not a dependency).
        from waitress.server import create_server  # type: ignore[import-untyped, unused-ignore]

        from netbank.config.wsgi import application

        options = {"threads": WSGI_THREADS, "ident": "netbank"}
        if not _also_ipv6_loopback(host):
            try:
                return create_server(application, host=host, port=port, **options)
            except OSError as exc:
                raise CommandError(
                    f"Port {host}:{port} is not available ({exc.strerror}); "
                    "choose another with --port."
                ) from exc
        return create_server(application, sockets=self._dual_sockets(host, port), **options)

    def _dual_sockets(self, host: str, port: int) -> list[socket.socket]:
        """``host`` and [::1] on one port (the OS's choice for both when ``port`` is 0)."""
        for _attempt in range(10):
            try:
                first = _bind(host, port)
            except OSError as exc:
                raise CommandError(
                    f"Port {host}:{port} is not available ({exc.strerror}); "
                    "choose another with --port."
                ) from exc
            real_port = int(first.getsockname()[1])
            try:
                return [first, _bind("::1", real_port)]
            except OSError as exc:
                first.close()
                if port != 0:
                    raise CommandError(
                        f"Port [::1]:{port} is not available ({exc.strerror}); "
                        "choose another with --port."
                    ) from exc
                # The port the OS picked for IPv4 is taken on ::1: ask again.
        raise CommandError("No port free on both 127.0.0.1 and ::1; choose one with --port.")

    def _banner(
        self,
        host: str,
        port: int,
        mailbox: Path,
        smtp_port: int,
        folder: Path,
        token_app_dir: Path,
        jobs: list[Job],
    ) -> None:
        base = f"http://{_url_host(host)}:{port}"
        self.say()
        self.say("NetBank OTP デモ / demo")
        self.say()
        for line in _table(
            [
                ["ログイン画面 / Bank login", f"{base}/"],
                ["受信メール / Caught mail", f"{base}/demo/mail/"],
                ["ヘルプデスク / Helpdesk console", f"{base}/helpdesk/"],
                ["メールの保存先 / Mail folder", str(mailbox)],
                ["メールキャッチャー / SMTP", f"127.0.0.1:{smtp_port}"],
                ["データフォルダ / Data folder", str(folder)],
            ]
        ):
            self.say(line)
        if not _is_loopback(host):
            self.say()
            self.say(
                "  注意: 受信メールのページは、このサーバに届く誰もが読めます。"
                " / Warning: anyone who can reach this server can read the caught mail."
            )
        for block in (
            self._customers_block(),
            self._otp_block(),
            self._operators_block(),
            self._token_app_block(token_app_dir),
            self._jobs_block(jobs),
        ):
            self.say()
            for line in block:
                self.say(line)
        self.say()
        self.say("Ctrl-C で終了します / Press Ctrl-C to stop.")

    def _customers_block(self) -> list[str]:
        from netbank.demo.seed import DEMO_CUSTOMERS

        rows = [
            [
                "ログインID",
                "ログインパスワード",
                "確認用パスワード",
                "氏名",
                "メールアドレス",
                "ワンタイムパスワード",
            ]
        ]
        for demo in DEMO_CUSTOMERS:
            rows.append(
                [
                    demo.login_id,
                    demo.password,
                    demo.transaction_password,
                    f"{demo.name_kanji}（{demo.name_kana}）",
                    demo.email,
                    _otp_state(demo.login_id),
                ]
            )
        lines = ["デモ顧客 / Demo customers", *_table(rows)]
        lines += ["", "追加認証 / Secret questions"]
        lines += _table(
            [
                [demo.login_id, question, answer]
                for demo in DEMO_CUSTOMERS
                for question, answer in demo.questions
            ]
        )
        return lines

    def _otp_block(self) -> list[str]:
        from netbank.demo.seed import DEMO_CUSTOMERS, customer_key

        lines: list[str] = []
        for demo in DEMO_CUSTOMERS:
            key = customer_key(demo.login_id) if demo.otp_in_use else None
            if key is None:
                continue
            if lines:
                lines.append("")
            lines.append(
                f"{demo.login_id} のワンタイムパスワード（認証アプリ）/ "
                f"{demo.login_id}'s one-time password (authenticator app)"
            )
            lines += _table(
                [
                    ["鍵 / Key (base32)", key.secret_base32],
                    ["otpauth URI", key.otpauth_uri],
                    ["コード / Code", f"oathtool --totp -b {key.secret_base32}"],
                ]
            )
            lines.append(
                "  （認証アプリに鍵を登録しても使えます / or add the key to any authenticator app）"
            )
        return lines

    def _operators_block(self) -> list[str]:
        from netbank.demo.seed import DEMO_OPERATORS, operator_key

        rows = [["ユーザー名 / User", "パスワード / Password", "役割 / Role", "鍵 / TOTP key"]]
        for demo in DEMO_OPERATORS:
            key = operator_key(demo.username)
            rows.append(
                [
                    demo.username,
                    demo.password,
                    demo.role,
                    key.secret_base32 if key is not None else "—",
                ]
            )
        return [
            "ヘルプデスク担当者 / Helpdesk operators",
            *_table(rows),
            "  コード / Code: oathtool --totp -b <鍵 / key>",
        ]

    def _token_app_block(self, token_app_dir: Path) -> list[str]:
        return [
            "トークンアプリ / Token app (初期設定: サービスID and ユーザID from the token mail)",
            f"  {_token_app_command(token_app_dir)}",
            f"  設定ファイル / Install configuration: {token_app_dir / 'install.json'}",
        ]

    def _jobs_block(self, jobs: list[Job]) -> list[str]:
        rows = [[job.label, _every(job.period)] for job in jobs]
        return ["定期処理 / Background jobs (every)", *_table(rows)]


def _server_port(server: Any) -> int:
    """The port waitress listens on (one server, or several on the same port)."""
    listening = getattr(server, "effective_listen", None)
    return int(listening[0][1] if listening else server.effective_port)


def _every(seconds: float) -> str:
    if seconds >= DAY:
        return f"{seconds / DAY:g} day"
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _otp_state(login_id: str) -> str:
    from netbank.otp.models import Token

    states = set(Token.objects.filter(customer__login_id=login_id).values_list("state", flat=True))
    if Token.State.IN_USE in states:
        return "利用中 / in use"
    if states & {Token.State.ISSUED, Token.State.ACTIVATED}:
        return "申請中 / issued"
    return "未設定 / not set up"
