"""Settings, read once at the edge from HOTLINE_* variables into a frozen value.

Each setting is declared once (name, default, help) so the README and `hotline settings`
say the same thing. None means a feature is off. A secret setting may instead be read from a
file named by NAME_FILE (docker and compose mount secrets as files under /run/secrets).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dispatch.database_url import normalise as normalise_database_url
from dispatch.limits import LOGIN_FAILURES_PER_USER, LOOKUP_FAILURES_PER_TICKET, Limits
from dispatch.replies import REPLY_MIN_CHARS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Secret(str):
    """A string that hides itself in reprs and logs."""

    def __repr__(self) -> str:
        return "Secret('**********')"


@dataclass(frozen=True)
class SettingSpec:
    name: str
    default: str | None
    help: str
    secret: bool = False  # also read from the file named by NAME_FILE


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("HOTLINE_DATABASE_URL", "sqlite:///hotline.db",
                "SQLAlchemy URL; a SQLite file in the working folder by default, "
                "postgresql://user@host/db (or postgres://...) in production", secret=True),
    SettingSpec("HOTLINE_DATABASE_PASSWORD", None, "password put into HOTLINE_DATABASE_URL when the URL "
                "carries none (PostgreSQL); with HOTLINE_DATABASE_PASSWORD_FILE one password file serves "
                "the database server and the hotline", secret=True),
    SettingSpec("HOTLINE_SECRET_KEY", None,
                "signs session cookies and CSRF tokens, and classifier model files; when unset, "
                "a key is generated once and kept in the database (table site_secrets), so "
                "sessions survive restarts, and model files are checked by hash only", secret=True),
    SettingSpec("HOTLINE_CITY_FILE", None, "city file (units, category routing, place names); "
                "the demo city Jiyuan when unset"),
    SettingSpec("HOTLINE_DEADLINES_FILE", None, "JSON file overriding working-day limits per "
                "request type and urgency, and extra holidays / workdays"),
    SettingSpec("HOTLINE_REDISPATCH_RESTARTS_DEADLINE", "yes", "a ticket dispatched again after an upheld "
                "改派申请 gets a new handling time counted from that dispatch, on the working-day calendar "
                "(yes/no); no: it keeps the deadline it had, counted from receipt"),
    SettingSpec("HOTLINE_EXTENSION_MAX_WORKING_DAYS", "15", "the most working days one 延期申请 may ask "
                "for (the ticket page and the staff API refuse more); a unit needing longer asks again once "
                "the first is decided"),
    SettingSpec("HOTLINE_MAX_BODY_CHARS", "5000", "longest accepted request text, in characters"),
    SettingSpec("HOTLINE_ATTACHMENT_MAX_BYTES", "5242880", "largest photo (JPEG, PNG, WebP) a citizen or "
                "staff member may add to a ticket, in bytes (5 MB)"),
    SettingSpec("HOTLINE_ATTACHMENTS_PER_TICKET", "9", "most photos one ticket may hold, the citizen's and "
                "staff's together"),
    SettingSpec("HOTLINE_ATTACHMENT_RETENTION_DAYS", "0", "days a finished ticket (closed, answered, invalid, "
                "handed over) keeps its photos; then the scheduler removes them, each with a `detach` event saying "
                "why (`hotline attachments expire` too); 0: kept as long as the ticket"),
    SettingSpec("HOTLINE_REPLY_MIN_CHARS", "2", "a reply to the citizen (办结, 直接办结) must have at least "
                "this many characters, not counting whitespace around it; 0 or 1: any reply not empty"),
    SettingSpec("HOTLINE_REPEAT_WINDOW_HOURS", "24", "the same contact repeating the same request "
                "within this many hours is linked to the open ticket"),
    SettingSpec("HOTLINE_MODEL_DIR", "models", "folder of classifier model files; the default model "
                "is trained there on first start when it holds none"),
    SettingSpec("HOTLINE_TRAIN_ON_START", "yes", "train the default classifier model in the background "
                "at start when none exists (yes/no); until then every ticket goes to manual triage"),
    SettingSpec("HOTLINE_ROUTING_MIN_CONFIDENCE", None, "below this classifier probability a ticket "
                "goes to manual triage with the top three suggestions; `hotline classifier eval` reports "
                "coverage and accuracy at it. Unset: 0.88 for the fast model alone, the second opinion's "
                "own threshold when the embeddings extra is installed (README, \"Selective routing\")"),
    SettingSpec("HOTLINE_ENTRY_MODEL_MIN_TICKETS", "0", "0 (off), or: once this many resolved tickets carry "
                "a level-3 catalogue entry, a second model learns level 3 from them (at start and at each weekly "
                "retrain) and is asked where the catalogue's terms find nothing or are less sure"),
    SettingSpec("HOTLINE_KB_SYNONYMS_FILE", None, "knowledge base synonyms, one group a line, the word "
                "the others fold into first; the shipped list (dispatch/cities/kb_synonyms.txt) when unset"),
    SettingSpec("HOTLINE_KB_MIN_MATCH", "0.5", "a knowledge base search whose best article matches less "
                "than this share of the query's words counts as a search with no useful result (a gap)"),
    SettingSpec("HOTLINE_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    SettingSpec("HOTLINE_LOG_FORMAT", "text", "text (one line: message, then key=value extras) or json (one JSON "
                "object a line: timestamp, level, logger, event, message, extras); personal data masked in both"),
    SettingSpec("HOTLINE_METRICS_ALLOW", "127.0.0.0/8,::1", "comma-separated addresses or CIDRs that may read "
                "/metrics (the client address as HOTLINE_TRUSTED_PROXIES resolves it); `none`: no address"),
    SettingSpec("HOTLINE_METRICS_TOKEN", None, "a bearer token that may read /metrics from any address "
                "(Prometheus' `authorization` scrape option); unset: addresses only"),
    SettingSpec("HOTLINE_READYZ_DETAIL", "restricted", "restricted: /readyz tells each check's detail (migration "
                "revisions, roles, reasons) only to HOTLINE_METRICS_ALLOW addresses, the /metrics token or a staff API "
                "token, and anyone else its `ready` and status code alone; public: everyone gets the detail"),
    SettingSpec("HOTLINE_AMI_HOST", None, "Asterisk AMI host; `hotline serve` runs the call bridge "
                "when set (off when unset)"),
    SettingSpec("HOTLINE_AMI_PORT", "5038", "Asterisk AMI port"),
    SettingSpec("HOTLINE_AMI_USERNAME", None, "AMI user (manager.conf)"),
    SettingSpec("HOTLINE_AMI_SECRET", None, "AMI secret", secret=True),
    SettingSpec("HOTLINE_QUEUE_LOG", None, "the PBX's queue_log, read after an AMI outage to record the "
                "calls made meanwhile: a file path (logger.conf queue_log_to_file), `table` (Asterisk's "
                "realtime queue_log table in the hotline's own database) or a database URL holding that "
                "table; off when unset"),
    SettingSpec("HOTLINE_PUBLIC_URL", None, "the hotline's public base URL as Twilio calls it, e.g. "
                "https://hotline.example.gov.cn; Twilio's webhook signatures are checked against it, and the "
                "units' webhooks give each ticket's API address under it (ticket.api_url)"),
    SettingSpec("HOTLINE_WEBHOOK_ALLOW_PRIVATE", "no", "units' webhooks may go to loopback and private "
                "network addresses (yes/no): for a closed city network whose units' systems sit on 政务外网 or "
                "on this host; no: such an address is refused when registered and when a name resolves to it "
                "at sending, so a staff account cannot make the server call its own internal services"),
    SettingSpec("HOTLINE_TWILIO_ACCOUNT_SID", None, "Twilio account SID (AC...); SMS is on when this, "
                "the auth token, the SMS number and HOTLINE_PUBLIC_URL are all set (off when none is)"),
    SettingSpec("HOTLINE_TWILIO_AUTH_TOKEN", None, "Twilio auth token: checks webhook signatures, "
                "authenticates sending and fetching picture messages' photos", secret=True),
    SettingSpec("HOTLINE_TWILIO_FROM", None, "the hotline's SMS number at Twilio, E.164 (+1...)"),
    SettingSpec("HOTLINE_TWILIO_API_BASE", None, "send through this server instead of "
                "https://api.twilio.com, and fetch picture messages' photos from it too "
                "(`hotline sms-sim`, for tests and demos)"),
    SettingSpec("HOTLINE_SMS_PROVIDER", "twilio", "who sends and receives the texts: twilio, or aliyun "
                "(Alibaba Cloud SMS, 阿里云短信: HOTLINE_ALIYUN_* then)"),
    SettingSpec("HOTLINE_ALIYUN_ACCESS_KEY_ID", None, "Alibaba Cloud AccessKey ID (a RAM user allowed "
                "dysms:SendSms and dysms:QuerySendDetails)"),
    SettingSpec("HOTLINE_ALIYUN_ACCESS_KEY_SECRET", None, "Alibaba Cloud AccessKey secret", secret=True),
    SettingSpec("HOTLINE_ALIYUN_SIGN_NAME", None, "the approved sign name (签名), e.g. 12345"),
    SettingSpec("HOTLINE_ALIYUN_TEMPLATES", None, "template code of each kind of text, kind=code "
                "comma-separated: received, repeat_code, transferred, resolved, main_resolved, merged, "
                "reopened, reply, unit_overdue, unit_escalation, unit_digest (README lists the template "
                "texts); a text of a kind without a code is not sent (logged)"),
    SettingSpec("HOTLINE_ALIYUN_ENDPOINT", "dysmsapi.aliyuncs.com", "the SMS API's host (HTTPS), or "
                "http://host:port of the local stand-in (`hotline aliyun-sim`, for tests and demos)"),
    SettingSpec("HOTLINE_ALIYUN_PUSH_TOKEN", None, "secret token of the receipt and inbound-text push "
                "URLs registered in Alibaba's console (…/sms/aliyun/report?token=…, …/sms/aliyun/up?token=…); "
                "a push without it is refused (403)", secret=True),
    SettingSpec("HOTLINE_SMS_THROTTLE_MAX", "10", "texts one number may send within the throttle "
                "window; the next gets one warning, later ones are logged but not answered"),
    SettingSpec("HOTLINE_SMS_THROTTLE_WINDOW_MINUTES", "10", "the throttle window, in minutes"),
    SettingSpec("HOTLINE_FOLLOW_UP_MAX_ATTEMPTS", "3", "unanswered follow-up calls (回访未接通) after "
                "which a resolved ticket closes as not rated"),
    SettingSpec("HOTLINE_FOLLOW_UP_RETRY_MINUTES", "10", "the least time between two unanswered follow-up "
                "calls (回访未接通) of one ticket: one recorded sooner is refused, so the tries that close it "
                "are spread over time; 0 turns the check off"),
    SettingSpec("HOTLINE_FOLLOW_UP_CLOSE_AFTER_DAYS", "7", "a resolved ticket nobody rated closes by "
                "itself, as not rated, after this many days"),
    SettingSpec("HOTLINE_NEAR_DUE_HOURS", "24", "a unit is warned (临期预警) this many hours before a "
                "ticket's deadline; its daily digest lists the tickets due within as many hours"),
    SettingSpec("HOTLINE_ESCALATE_EVERY_WORKING_DAYS", "2", "an overdue ticket is escalated (督办) by the "
                "scheduler this many working days after its deadline, and again every as many working days"),
    SettingSpec("HOTLINE_SIMILAR_DAYS", "30", "similar open tickets (possible duplicates) are looked "
                "for among those received in the last this many days"),
    SettingSpec("HOTLINE_REPEAT_PROPOSAL_DAYS", "30", "a caller's open tickets received in the last this "
                "many days are proposed for 合并 when new words of the same number say the same thing "
                "(dispatch/repeats.py)"),
    SettingSpec("HOTLINE_HANDOVER_NUMBERS", "110=110,119=119,120=120,122=122", "where the PBX sends a "
                "live call handed over to an emergency service (service=extension in the dialplan's "
                "handover context)"),
    SettingSpec("HOTLINE_SMS_SPOOL", "sms-spool.jsonl", "file keeping citizens' texts that arrived while "
                "the database refused writes (read-only, full disk); they are filed when writes work again"),
    SettingSpec("HOTLINE_SMS_ALLOWED_COUNTRY_CODES", "86", "comma-separated country calling codes whose "
                "numbers get notifications; texts to other countries are not queued (logged as sms_blocked)"),
    SettingSpec("HOTLINE_SMS_PER_RECIPIENT_PER_DAY", "10", "notifications one number gets per day (China "
                "time); replies to the citizen's own texts do not count; 0 = no cap"),
    SettingSpec("HOTLINE_SMS_GLOBAL_PER_HOUR", "500", "notifications sent in all per hour; 0 = no cap"),
    SettingSpec("HOTLINE_API_INTAKE_PER_MINUTE", "10", "requests one client address may file through "
                "POST /api/v1/tickets per minute; more get 429; 0 = off"),
    SettingSpec("HOTLINE_WEB_FORM_PER_ADDRESS", "10", "complaints one client address may file through the "
                "web form (/) per 10 minutes, counted across processes; more get 429; 0 = off"),
    SettingSpec("HOTLINE_KB_SEARCHES_PER_ADDRESS", "60", "public knowledge base searches (/kb, anonymous "
                "GET /api/v1/kb) from one client address recorded per 10 minutes for the gap list, counted "
                "across processes; searches past it are still answered, only not recorded; 0 = off"),
    SettingSpec("HOTLINE_OPEN311_LISTS_PER_MINUTE", "30", "GET /open311/v2/requests lists one client address "
                "may ask for per minute (each masks up to 1,000 texts); more get 429; 0 = off"),
    SettingSpec("HOTLINE_OPEN311_INTAKE_PER_MINUTE", "60", "requests one Open311 client key may file "
                "through POST /open311/v2/requests per minute; more get 429; 0 = off"),
    SettingSpec("HOTLINE_LOOKUP_FAILURES_PER_ADDRESS", "10", "wrong ticket number / query code pairs one "
                "client address may try per 10 minutes (API and /status); then 429; 0 = off"),
    SettingSpec("HOTLINE_LOOKUP_FAILURES_PER_TICKET_ADDRESS", "20", "wrong query codes one ticket may be "
                "tried with per hour from one client address; then 429 for that address only; 0 = off"),
    SettingSpec("HOTLINE_LOOKUP_FAILURES_PER_TICKET", str(LOOKUP_FAILURES_PER_TICKET), "wrong query codes one "
                "ticket may be tried with per hour from all addresses together (guessing that fast for a week "
                "finds a 6-digit code with a chance under 1%); then 429 for everyone; 0 = off"),
    SettingSpec("HOTLINE_LOGIN_FAILURES_PER_USER_ADDRESS", "5", "failed staff logins per user name from one "
                "client address per 15 minutes; then 429 for that pair only; 0 = off"),
    SettingSpec("HOTLINE_LOGIN_FAILURES_PER_ADDRESS", "30", "failed staff logins from one client address, "
                "whatever the user name, per 15 minutes; 0 = off"),
    SettingSpec("HOTLINE_LOGIN_FAILURES_PER_USER", str(LOGIN_FAILURES_PER_USER), "failed staff logins per user "
                "name from all client addresses together per 15 minutes; then 429 for that name from every "
                "address until the window ends (sessions and API tokens already issued keep working); 0 = off"),
    SettingSpec("HOTLINE_DRAFTS_PER_MINUTE", "60", "classifier proposals one staff account may get per "
                "minute while typing a request in the operator console (/operator/draft), counted across "
                "processes; past it the console keeps its last proposal; 0 = off"),
    SettingSpec("HOTLINE_TRUSTED_PROXIES", None, "comma-separated addresses or CIDRs of reverse proxies; "
                "X-Forwarded-For is believed only from them (the right-most address not among them is "
                "the client); unset: the peer address is the client"),
    SettingSpec("HOTLINE_DEMO_HISTORY_DAYS", "90", "`hotline serve --demo`, first start: days of ticket "
                "history generated (about 300 tickets a working day); 0 = only the sample tickets"),
    SettingSpec("HOTLINE_DEMO_CALL_INTERVAL_SECONDS", "45", "`hotline serve --demo` without a PBX: seconds "
                "between the AMI simulator's calls (a few of them missed calls for the callback list)"),
    SettingSpec("HOTLINE_RESPONSE_HOURS", "24", "响应率: a transfer counts as answered in time when the unit "
                "accepts it within this many hours (clock hours) of the transfer"),
    SettingSpec("HOTLINE_ASSESSMENT_WEIGHTS", "response=0.1,resolution=0.4,satisfaction=0.4,on_time=0.1",
                "weights of the monthly assessment score (考核): response, resolution, satisfaction and "
                "on_time rates, NAME=WEIGHT, comma-separated; a rate a unit has no tickets for drops out"),
    SettingSpec("HOTLINE_ASSESSMENT_TIER_CUTS", "0.90,0.80,0.70", "lowest scores of tiers A 好, B 较好 and "
                "C 一般 (below the last: D 差), descending fractions"),
    SettingSpec("HOTLINE_ASSESSMENT_MAX_INTERVAL", "0.20", "a unit whose score's 95% interval is wider than "
                "this gets no tier (too few tickets to judge)"),
    SettingSpec("HOTLINE_HOTSPOT_BASELINE_DAYS", "28", "热点: each category x township is compared with its "
                "own count over this many days before the period, on the days of the same kind (working day "
                "or rest day; all of them when there is none of that kind)"),
    SettingSpec("HOTLINE_HOTSPOT_MIN_COUNT", "3", "热点: fewer tickets than this on a day never make a rising topic"),
    SettingSpec("HOTLINE_HOTSPOT_MIN_SCORE", "3", "热点: a day's count is rising when -log10 of its Poisson tail "
                "probability reaches this (3: p <= 0.001)"),
    SettingSpec("HOTLINE_HOTSPOT_CLUSTER_MIN_SCORE", "0.3", "多人反映: similarity (text cosine plus the same-place "
                "and same-category bonuses) at which two tickets are about the same matter"),
    SettingSpec("HOTLINE_SERVICE_LEVEL_SECONDS", "20", "service level: calls answered within this many seconds "
                "of entering the queue, over calls offered (the wallboard, /api/v1/stats, the reports); the "
                "15-second answer rate of GB/T 33358-2016 is given beside it whatever this is"),
    SettingSpec("HOTLINE_SHORT_ABANDON_SECONDS", "0", "callers who hang up within this many seconds of "
                "waiting are short abandons, left out of the abandonment rate only (both sides of it); "
                "0 = off, every abandon counts"),
    SettingSpec("HOTLINE_WRAP_UP_SECONDS", "0", "after a call an agent is shown in wrap-up (话后处理) for this "
                "many seconds, as Asterisk's queues.conf wrapuptime keeps them from the next call; 0 = none"),
    SettingSpec("HOTLINE_REPORTS", "yes", "the scheduler makes the daily, weekly and monthly reports (日报 / 周报 / "
                "月报) of the last complete day, week and month (yes/no)"),
    SettingSpec("HOTLINE_REPORT_PDF", "auto", "PDF of the daily / weekly / monthly reports: auto (chromium's "
                "print through Playwright when both are installed; otherwise HTML and CSV only) or off"),
    SettingSpec("HOTLINE_CHROMIUM", None, "the chromium program printing report PDFs; unset: chromium, "
                "chromium-browser or google-chrome found on PATH"),
    SettingSpec("HOTLINE_API_TOKEN_HOURS", "12", "lifetime of a staff API token obtained with POST "
                "/api/v1/auth/token (tokens made by `hotline tokens create` choose their own)"),
)


@dataclass(frozen=True)
class AliyunSettings:
    access_key_id: str
    access_key_secret: Secret
    sign_name: str
    push_token: Secret
    templates: Mapping[str, str] = field(default_factory=dict)  # kind of text -> template code
    endpoint: str = "dysmsapi.aliyuncs.com"


@dataclass(frozen=True)
class SmsSettings:
    """Twilio's fields are empty when `aliyun` is set (HOTLINE_SMS_PROVIDER=aliyun)."""

    account_sid: str
    auth_token: Secret
    from_number: str
    public_url: str
    api_base: str | None = None
    throttle_max: int = 10
    throttle_window_minutes: float = 10.0
    spool: Path | None = None  # None: a text the database refuses is answered 503, not kept
    spool_retry_seconds: float = 10.0  # how often kept texts are tried again
    aliyun: AliyunSettings | None = None

    @property
    def provider(self) -> str:
        return "aliyun" if self.aliyun is not None else "twilio"


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    secret: Secret
    queue_log: str | None = None  # a file path, "table", or a database URL; None: no recovery


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///hotline.db"
    # HOTLINE_SECRET_KEY; None: the session key the site generated and keeps in its
    # database (Services.session_key).
    secret_key: Secret | None = None
    # HOTLINE_SECRET_KEY when it was set: model files are signed and checked with it. The
    # stored key is not used for them: model files and the classifier commands live apart
    # from the database, and a new database would refuse every model made before it.
    model_key: Secret | None = None
    city_file: Path | None = None
    deadlines_file: Path | None = None
    redispatch_restarts_deadline: bool = True
    extension_max_working_days: int = 15
    max_body_chars: int = 5000
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachments_per_ticket: int = 9
    attachment_retention_days: int = 0
    reply_min_chars: int = REPLY_MIN_CHARS
    repeat_window_hours: float = 24.0
    model_dir: Path = Path("models")
    # Off unless asked for: an app built in code (tests, scripts) should not start a training
    # thread; from_env() turns it on by default for `hotline serve`.
    train_on_start: bool = False
    routing_min_confidence: float | None = None    # None: routing's default (classifier.selective.routing_threshold)
    entry_model_min_tickets: int = 0
    kb_synonyms_file: Path | None = None
    kb_min_match: float = 0.5
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_allow: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1"))
    metrics_token: Secret | None = None
    readyz_detail: str = "restricted"
    ami: AmiSettings | None = None
    sms: SmsSettings | None = None
    follow_up_max_attempts: int = 3
    follow_up_close_after_days: float = 7.0
    follow_up_retry_minutes: int = 10
    near_due_hours: float = 24.0
    escalate_every_working_days: int = 2
    similar_days: int = 30
    repeat_proposal_days: int = 30
    handover_numbers: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_HANDOVER_NUMBERS))
    public_url: str | None = None
    webhook_allow_private: bool = False
    limits: Limits = field(default_factory=Limits)
    trusted_proxies: tuple[Network, ...] = ()

    @property
    def secure_cookies(self) -> bool:
        """Served over https (behind a TLS proxy the app itself may only see http)."""
        return bool(self.public_url and self.public_url.lower().startswith("https://"))
    api_token_hours: float = 12.0
    service_level_seconds: int = 20
    short_abandon_seconds: int = 0
    wrap_up_seconds: int = 0
    # Off unless asked for, like train_on_start: an app built in code (tests, scripts) should
    # not make reports behind its back nor start chromium; from_env() turns both on by default.
    reports: bool = False
    report_pdf: bool = False
    chromium: str | None = None
    demo_call_interval_seconds: float = 45.0
    demo_history_days: int = 90
    response_hours: float = 24.0
    assessment_weights: tuple[tuple[str, float], ...] = (("response", 0.1), ("resolution", 0.4),
                                                         ("satisfaction", 0.4), ("on_time", 0.1))
    assessment_tier_cuts: tuple[float, float, float] = (0.90, 0.80, 0.70)
    assessment_max_interval: float = 0.20
    hotspot_baseline_days: int = 28
    hotspot_min_count: int = 3
    hotspot_min_score: float = 3.0
    hotspot_cluster_min_score: float = 0.3

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = with_secret_files(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None or value.strip() == "":
                return next(s.default for s in SETTINGS if s.name == name)
            return value.strip()

        def number(name: str, kind: type) -> int | float:
            raw = get(name)
            try:
                value = kind(raw)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{name} must be positive, got {raw!r}")
            return value

        def count(name: str) -> int:
            raw = get(name)
            if raw is None or not raw.isdigit():
                raise ValueError(f"{name} must be a whole number, 0 or more, got {raw!r}")
            return int(raw)

        secret = get("HOTLINE_SECRET_KEY")
        city = get("HOTLINE_CITY_FILE")
        deadlines = get("HOTLINE_DEADLINES_FILE")
        return cls(
            database_url=_with_password(normalise_database_url(get("HOTLINE_DATABASE_URL") or "sqlite:///hotline.db"),
                                        get("HOTLINE_DATABASE_PASSWORD")),
            secret_key=Secret(secret) if secret else None,
            model_key=Secret(secret) if secret else None,
            city_file=Path(city) if city else None,
            deadlines_file=Path(deadlines) if deadlines else None,
            redispatch_restarts_deadline=_yes(get("HOTLINE_REDISPATCH_RESTARTS_DEADLINE"),
                                              "HOTLINE_REDISPATCH_RESTARTS_DEADLINE"),
            extension_max_working_days=int(number("HOTLINE_EXTENSION_MAX_WORKING_DAYS", int)),
            max_body_chars=int(number("HOTLINE_MAX_BODY_CHARS", int)),
            attachment_max_bytes=int(number("HOTLINE_ATTACHMENT_MAX_BYTES", int)),
            attachments_per_ticket=int(number("HOTLINE_ATTACHMENTS_PER_TICKET", int)),
            attachment_retention_days=count("HOTLINE_ATTACHMENT_RETENTION_DAYS"),
            reply_min_chars=count("HOTLINE_REPLY_MIN_CHARS"),
            repeat_window_hours=float(number("HOTLINE_REPEAT_WINDOW_HOURS", float)),
            model_dir=Path(get("HOTLINE_MODEL_DIR") or "models"),
            train_on_start=_yes(get("HOTLINE_TRAIN_ON_START"), "HOTLINE_TRAIN_ON_START"),
            routing_min_confidence=(_fraction(get("HOTLINE_ROUTING_MIN_CONFIDENCE"), "HOTLINE_ROUTING_MIN_CONFIDENCE")
                                    if get("HOTLINE_ROUTING_MIN_CONFIDENCE") else None),
            entry_model_min_tickets=count("HOTLINE_ENTRY_MODEL_MIN_TICKETS"),
            kb_synonyms_file=Path(get("HOTLINE_KB_SYNONYMS_FILE")) if get("HOTLINE_KB_SYNONYMS_FILE") else None,
            kb_min_match=_fraction(get("HOTLINE_KB_MIN_MATCH"), "HOTLINE_KB_MIN_MATCH"),
            log_level=(get("HOTLINE_LOG_LEVEL") or "INFO").upper(),
            log_format=_log_format(get("HOTLINE_LOG_FORMAT")),
            metrics_allow=(() if (get("HOTLINE_METRICS_ALLOW") or "").lower() == "none"
                           else parse_networks(get("HOTLINE_METRICS_ALLOW"), "HOTLINE_METRICS_ALLOW")),
            metrics_token=Secret(token) if (token := get("HOTLINE_METRICS_TOKEN")) else None,
            readyz_detail=_readyz_detail(get("HOTLINE_READYZ_DETAIL")),
            ami=_ami(get),
            sms=_sms(get, number),
            follow_up_max_attempts=int(number("HOTLINE_FOLLOW_UP_MAX_ATTEMPTS", int)),
            follow_up_close_after_days=float(number("HOTLINE_FOLLOW_UP_CLOSE_AFTER_DAYS", float)),
            follow_up_retry_minutes=count("HOTLINE_FOLLOW_UP_RETRY_MINUTES"),
            near_due_hours=float(number("HOTLINE_NEAR_DUE_HOURS", float)),
            escalate_every_working_days=int(number("HOTLINE_ESCALATE_EVERY_WORKING_DAYS", int)),
            similar_days=int(number("HOTLINE_SIMILAR_DAYS", int)),
            repeat_proposal_days=int(number("HOTLINE_REPEAT_PROPOSAL_DAYS", int)),
            handover_numbers=_handover_numbers(get("HOTLINE_HANDOVER_NUMBERS") or ""),
            public_url=get("HOTLINE_PUBLIC_URL"),
            webhook_allow_private=_yes(get("HOTLINE_WEBHOOK_ALLOW_PRIVATE"), "HOTLINE_WEBHOOK_ALLOW_PRIVATE"),
            limits=Limits.build(
                api_intake_per_minute=count("HOTLINE_API_INTAKE_PER_MINUTE"),
                web_form_per_address=count("HOTLINE_WEB_FORM_PER_ADDRESS"),
                kb_searches_per_address=count("HOTLINE_KB_SEARCHES_PER_ADDRESS"),
                open311_intake_per_minute=count("HOTLINE_OPEN311_INTAKE_PER_MINUTE"),
                open311_lists_per_minute=count("HOTLINE_OPEN311_LISTS_PER_MINUTE"),
                lookup_failures_per_address=count("HOTLINE_LOOKUP_FAILURES_PER_ADDRESS"),
                lookup_failures_per_ticket_address=count("HOTLINE_LOOKUP_FAILURES_PER_TICKET_ADDRESS"),
                lookup_failures_per_ticket=count("HOTLINE_LOOKUP_FAILURES_PER_TICKET"),
                login_failures_per_user_address=count("HOTLINE_LOGIN_FAILURES_PER_USER_ADDRESS"),
                login_failures_per_address=count("HOTLINE_LOGIN_FAILURES_PER_ADDRESS"),
                login_failures_per_user=count("HOTLINE_LOGIN_FAILURES_PER_USER"),
                drafts_per_operator_per_minute=count("HOTLINE_DRAFTS_PER_MINUTE"),
                sms_countries=_country_codes(get("HOTLINE_SMS_ALLOWED_COUNTRY_CODES")),
                sms_per_recipient_per_day=count("HOTLINE_SMS_PER_RECIPIENT_PER_DAY"),
                sms_per_hour=count("HOTLINE_SMS_GLOBAL_PER_HOUR")),
            trusted_proxies=parse_networks(get("HOTLINE_TRUSTED_PROXIES")),
            api_token_hours=float(number("HOTLINE_API_TOKEN_HOURS", float)),
            service_level_seconds=int(number("HOTLINE_SERVICE_LEVEL_SECONDS", int)),
            short_abandon_seconds=count("HOTLINE_SHORT_ABANDON_SECONDS"),
            wrap_up_seconds=count("HOTLINE_WRAP_UP_SECONDS"),
            reports=_yes(get("HOTLINE_REPORTS"), "HOTLINE_REPORTS"),
            report_pdf=_report_pdf(get("HOTLINE_REPORT_PDF")),
            chromium=get("HOTLINE_CHROMIUM"),
            demo_call_interval_seconds=float(number("HOTLINE_DEMO_CALL_INTERVAL_SECONDS", float)),
            demo_history_days=count("HOTLINE_DEMO_HISTORY_DAYS"),
            response_hours=float(number("HOTLINE_RESPONSE_HOURS", float)),
            assessment_weights=_weights(get("HOTLINE_ASSESSMENT_WEIGHTS")),
            assessment_tier_cuts=_tier_cuts(get("HOTLINE_ASSESSMENT_TIER_CUTS")),
            assessment_max_interval=_fraction(get("HOTLINE_ASSESSMENT_MAX_INTERVAL"),
                                              "HOTLINE_ASSESSMENT_MAX_INTERVAL"),
            hotspot_baseline_days=int(number("HOTLINE_HOTSPOT_BASELINE_DAYS", int)),
            hotspot_min_count=int(number("HOTLINE_HOTSPOT_MIN_COUNT", int)),
            hotspot_min_score=float(number("HOTLINE_HOTSPOT_MIN_SCORE", float)),
            hotspot_cluster_min_score=_fraction(get("HOTLINE_HOTSPOT_CLUSTER_MIN_SCORE"),
                                                "HOTLINE_HOTSPOT_CLUSTER_MIN_SCORE"),
        )


SECRET_SETTINGS = tuple(spec.name for spec in SETTINGS if spec.secret)


def with_secret_files(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with each secret's NAME_FILE read into NAME. A blank file counts as
    unset, like a blank variable (compose needs the file to exist even when SMS is off)."""
    values = dict(env)
    for name in SECRET_SETTINGS:
        path = (env.get(f"{name}_FILE") or "").strip()
        if not path:
            continue
        if (env.get(name) or "").strip():
            raise ValueError(f"{name} and {name}_FILE are both set: set one of them")
        try:
            text = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ValueError(f"{name}_FILE: cannot read {path} ({reason})") from None
        if "\n" in text:
            raise ValueError(f"{name}_FILE: {path} holds more than one line; put the value alone in it")
        values[name] = text
    return values


def _with_password(url: str, password: str | None) -> str:
    """HOTLINE_DATABASE_PASSWORD put into a PostgreSQL URL that names none."""
    if not password:
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("HOTLINE_DATABASE_PASSWORD is set but HOTLINE_DATABASE_URL is not a PostgreSQL URL")
    if parsed.password is not None:
        raise ValueError("HOTLINE_DATABASE_PASSWORD is set but HOTLINE_DATABASE_URL carries a password too: "
                         "keep one")
    return parsed.set(password=password).render_as_string(hide_password=False)


DEFAULT_HANDOVER_NUMBERS = {"110": "110", "119": "119", "120": "120", "122": "122"}


def _handover_numbers(value: str) -> dict[str, str]:
    """'110=110,120=8120' -> {'110': '110', '120': '8120'}; services not named keep their number."""
    numbers = dict(DEFAULT_HANDOVER_NUMBERS)
    for part in filter(None, (p.strip() for p in value.split(","))):
        service, _, target = part.partition("=")
        if service.strip() not in numbers or not target.strip():
            raise ValueError(f"HOTLINE_HANDOVER_NUMBERS: {part!r} is not SERVICE=NUMBER with SERVICE one of "
                             "110, 119, 120, 122")
        numbers[service.strip()] = target.strip()
    return numbers


def _country_codes(value: str | None) -> tuple[str, ...]:
    codes = tuple(code.strip().lstrip("+") for code in (value or "").split(",") if code.strip())
    for code in codes:
        if not code.isdigit() or not 1 <= len(code) <= 3:
            raise ValueError(f"HOTLINE_SMS_ALLOWED_COUNTRY_CODES: {code!r} is not a country calling code")
    return codes


def parse_networks(value: str | None, name: str = "HOTLINE_TRUSTED_PROXIES") -> tuple[Network, ...]:
    """'10.0.0.1, 172.30.0.0/24' -> networks (a single address is a /32 or /128)."""
    networks = []
    for item in (value or "").split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{name}: {item.strip()!r} is not an address or CIDR") from None
    return tuple(networks)


ASSESSED_RATES = ("response", "resolution", "satisfaction", "on_time")


def _weights(value: str | None) -> tuple[tuple[str, float], ...]:
    """'response=0.1,resolution=0.4,...' -> (("response", 0.1), ...); rates not named weigh 0."""
    weights = dict.fromkeys(ASSESSED_RATES, 0.0)
    for part in filter(None, (p.strip() for p in (value or "").split(","))):
        name, _, number = part.partition("=")
        try:
            weight = float(number)
        except ValueError:
            weight = -1.0
        if name.strip() not in weights or weight < 0:
            raise ValueError(f"HOTLINE_ASSESSMENT_WEIGHTS: {part!r} is not RATE=WEIGHT with RATE one of "
                             f"{', '.join(ASSESSED_RATES)} and WEIGHT a number, 0 or more")
        weights[name.strip()] = weight
    if not any(weights.values()):
        raise ValueError("HOTLINE_ASSESSMENT_WEIGHTS: at least one weight must be above 0")
    return tuple(weights.items())


def _tier_cuts(value: str | None) -> tuple[float, float, float]:
    try:
        cuts = tuple(float(p) for p in (value or "").split(","))
    except ValueError:
        cuts = ()
    if len(cuts) != 3 or not 1 >= cuts[0] >= cuts[1] >= cuts[2] >= 0:
        raise ValueError(f"HOTLINE_ASSESSMENT_TIER_CUTS must be three descending fractions (0.90,0.80,0.70), "
                         f"got {value!r}")
    return cuts  # type: ignore[return-value]


def _log_format(value: str | None) -> str:
    text = (value or "text").lower()
    if text not in ("text", "json"):
        raise ValueError(f"HOTLINE_LOG_FORMAT must be text or json, got {value!r}")
    return text


def _readyz_detail(value: str | None) -> str:
    text = (value or "restricted").lower()
    if text not in ("restricted", "public"):
        raise ValueError(f"HOTLINE_READYZ_DETAIL must be restricted or public, got {value!r}")
    return text


def _report_pdf(value: str | None) -> bool:
    text = (value or "auto").lower()
    if text not in ("auto", "off"):
        raise ValueError(f"HOTLINE_REPORT_PDF must be auto or off, got {value!r}")
    return text == "auto"


def _yes(value: str | None, name: str) -> bool:
    text = (value or "").lower()
    if text in ("yes", "true", "1", "on"):
        return True
    if text in ("no", "false", "0", "off"):
        return False
    raise ValueError(f"{name} must be yes or no, got {value!r}")


def _fraction(value: str | None, name: str) -> float:
    try:
        number = float(value or "")
    except ValueError:
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}") from None
    if not 0 <= number <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return number


def _ami(get) -> AmiSettings | None:  # type: ignore[no-untyped-def]
    host = get("HOTLINE_AMI_HOST")
    if not host:
        return None
    username, secret = get("HOTLINE_AMI_USERNAME"), get("HOTLINE_AMI_SECRET")
    if not username or not secret:
        raise ValueError("HOTLINE_AMI_HOST is set: HOTLINE_AMI_USERNAME and HOTLINE_AMI_SECRET are needed too")
    port = get("HOTLINE_AMI_PORT") or "5038"
    if not port.isdigit():
        raise ValueError(f"HOTLINE_AMI_PORT must be a port number, got {port!r}")
    return AmiSettings(host=host, port=int(port), username=username, secret=Secret(secret),
                       queue_log=get("HOTLINE_QUEUE_LOG"))


_SMS_REQUIRED = ("HOTLINE_TWILIO_ACCOUNT_SID", "HOTLINE_TWILIO_AUTH_TOKEN", "HOTLINE_TWILIO_FROM",
                 "HOTLINE_PUBLIC_URL")


_ALIYUN_REQUIRED = ("HOTLINE_ALIYUN_ACCESS_KEY_ID", "HOTLINE_ALIYUN_ACCESS_KEY_SECRET", "HOTLINE_ALIYUN_SIGN_NAME",
                    "HOTLINE_ALIYUN_PUSH_TOKEN")


def _sms(get, number) -> SmsSettings | None:  # type: ignore[no-untyped-def]
    provider = (get("HOTLINE_SMS_PROVIDER") or "twilio").strip().lower()
    if provider == "aliyun":
        return _aliyun_sms(get, number)
    if provider != "twilio":
        raise ValueError(f"HOTLINE_SMS_PROVIDER must be twilio or aliyun, got {provider!r}")
    given = {name: get(name) for name in _SMS_REQUIRED}
    if not any(value for name, value in given.items() if name.startswith("HOTLINE_TWILIO_")):
        return None  # SMS off; the public URL alone may serve other features
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ValueError(f"SMS is half configured: set {', '.join(missing)} too (or none of them)")
    return SmsSettings(account_sid=given["HOTLINE_TWILIO_ACCOUNT_SID"],
                       auth_token=Secret(given["HOTLINE_TWILIO_AUTH_TOKEN"]),
                       from_number=given["HOTLINE_TWILIO_FROM"], public_url=given["HOTLINE_PUBLIC_URL"],
                       api_base=get("HOTLINE_TWILIO_API_BASE"),
                       throttle_max=int(number("HOTLINE_SMS_THROTTLE_MAX", int)),
                       throttle_window_minutes=float(number("HOTLINE_SMS_THROTTLE_WINDOW_MINUTES", float)),
                       spool=Path(get("HOTLINE_SMS_SPOOL") or "sms-spool.jsonl"))


def _aliyun_sms(get, number) -> SmsSettings | None:  # type: ignore[no-untyped-def]
    given = {name: get(name) for name in _ALIYUN_REQUIRED}
    if not any(given.values()):
        return None  # SMS off, as with Twilio (`serve --demo` starts the stand-in then)
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ValueError(f"HOTLINE_SMS_PROVIDER=aliyun: set {', '.join(missing)} too")
    aliyun = AliyunSettings(access_key_id=given["HOTLINE_ALIYUN_ACCESS_KEY_ID"],
                            access_key_secret=Secret(given["HOTLINE_ALIYUN_ACCESS_KEY_SECRET"]),
                            sign_name=given["HOTLINE_ALIYUN_SIGN_NAME"],
                            push_token=Secret(given["HOTLINE_ALIYUN_PUSH_TOKEN"]),
                            templates=_template_codes(get("HOTLINE_ALIYUN_TEMPLATES")),
                            endpoint=get("HOTLINE_ALIYUN_ENDPOINT") or "dysmsapi.aliyuncs.com")
    return SmsSettings(account_sid="", auth_token=Secret(""), from_number="",
                       public_url=get("HOTLINE_PUBLIC_URL") or "", aliyun=aliyun,
                       throttle_max=int(number("HOTLINE_SMS_THROTTLE_MAX", int)),
                       throttle_window_minutes=float(number("HOTLINE_SMS_THROTTLE_WINDOW_MINUTES", float)),
                       spool=Path(get("HOTLINE_SMS_SPOOL") or "sms-spool.jsonl"))


def _template_codes(raw: str | None) -> dict[str, str]:
    from dispatch.notifications import provider_templates

    kinds = provider_templates()
    codes: dict[str, str] = {}
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        kind, sep, code = (piece.strip() for piece in part.partition("="))
        if not sep or not code or kind not in kinds:
            raise ValueError(f"HOTLINE_ALIYUN_TEMPLATES: {part.strip()!r} is not kind=code with a kind of "
                             f"{', '.join(sorted(kinds))}")
        codes[kind] = code
    return codes
