"""What the JSON API returns (and the pages show): the OpenAPI schema at /docs."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, computed_field


class Counts(BaseModel):
    expected: int = 0
    timeliness: dict[str, int] = Field(default_factory=dict, description="not_due, on_time, late, overdue, …")
    quality: dict[str, int] = Field(default_factory=dict, description="ok, incomplete, errors, pending, unreadable")

    @computed_field
    @property
    def due(self) -> int:
        """Expected publications whose deadline has passed or that were published."""
        return self.expected - self.timeliness.get("not_due", 0)

    @computed_field
    @property
    def on_time_rate(self) -> float | None:
        """Share of the publications already due that were published on time, in percent."""
        return round(100 * self.timeliness.get("on_time", 0) / self.due, 1) if self.due else None


class RegionCounts(Counts):
    region: str


class Overview(BaseModel):
    year: int | None
    kind: str | None
    years: list[int]
    totals: Counts
    regions: list[RegionCounts]
    unmatched: int
    evaluated_at: datetime | None


class ComplianceRow(BaseModel):
    expectation_id: int
    entity_id: int
    entity: str
    level: str
    region: str | None
    parent: str | None
    year: int
    kind: str
    approval_date: date | None
    deadline: date | None
    timeliness: str
    quality: str | None
    published: date | None
    days_late: int | None
    missing_tables: int
    errors: int
    document_id: int | None
    document_title: str | None


class Paged(BaseModel):
    """One page of a filtered table: how many rows match in all, and which page of how many this is."""

    total: int
    page: int
    pages: int


class ComplianceTable(Paged):
    rows: list[ComplianceRow]


class FindingCore(BaseModel):
    """What a finding says and where."""

    rule: str
    category: str
    severity: str
    message: str
    page: int | None
    table: str | None


class FindingOut(FindingCore):
    id: int
    evidence: dict
    page_image: str | None = Field(None, description="the page as a PNG, the figures the finding quotes boxed")
    page_note: str | None = Field(None, description="why the page is not shown highlighted (Chinese)")
    archive_page: str | None = Field(None, description="the archived PDF opened at the finding's page")


class VersionOut(BaseModel):
    sha256: str
    url: str
    seen_at: datetime
    superseded_at: datetime | None


class MatchOut(BaseModel):
    entity_id: int | None
    entity: str | None
    year: int | None
    kind: str | None
    scope: str | None
    method: str
    reason: str | None


class DocumentOut(BaseModel):
    id: int
    title: str | None
    source_id: str
    source_name: str
    region: str | None
    source_url: str | None = Field(description="where it was published (the page, or the file)")
    urls: list[str]
    published: date | None
    first_seen_at: datetime
    status: str
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    sha256: str | None
    filename: str | None
    parse_status: str | None
    parse_error: str | None
    parsed_kind: str | None
    parsed_year: int | None
    parsed_entity: str | None
    pages: int | None
    match: MatchOut | None
    versions: list[VersionOut]
    findings: list[FindingOut]


class LastRun(BaseModel):
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    documents_found: int
    new_documents: int
    errors: int


class SourceHealth(BaseModel):
    id: str
    name: str
    url: str
    region: str | None
    active: bool
    last_crawl_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    last_link_count: int | None
    documents: int
    withdrawn: int
    last_run: LastRun | None


class UnmatchedDocument(BaseModel):
    id: int
    title: str | None
    source_id: str
    source_name: str
    published: date | None
    parsed_entity: str | None
    year: int | None
    kind: str | None
    reason: str | None


class EntityOut(BaseModel):
    id: int
    name: str
    aliases: list[str]
    level: str
    region: str | None
    parent: str | None
    sources: list[str]


class Assignment(BaseModel):
    entity_id: int
    year: int = Field(ge=2000, le=2100, description="fiscal year")
    kind: str | None = Field(default=None, pattern="^(budget|final)$", description="default: as parsed")


class RefreshOut(BaseModel):
    entities: int
    expectations: int
    matched: int
    unmatched: int
    timeliness: dict[str, int]
    quality: dict[str, int]
    alerts: int


class ImportOut(BaseModel):
    created: int
    updated: int
    expectations: int
    refresh: RefreshOut


class ExploredFinding(FindingCore):
    """A finding of the current version of an active document, with where it stands and what it is about."""

    finding_id: int
    document_id: int
    document_title: str | None
    entity: str | None
    year: int | None
    kind: str | None = Field(description="budget | final")
    level: str | None
    region: str | None
    source_id: str
    amount: float | None = Field(description="the money the finding is about, 万元")
    rate: float | None = Field(description="the rate it is about (execution rate…), %")
    other_document_id: int | None = Field(description="the other document a cross-document finding compares with")
    other_document_title: str | None

    @computed_field
    @property
    def evidence_url(self) -> str:
        """The finding on its document's page."""
        return f"/documents/{self.document_id}#finding-{self.finding_id}"

    @computed_field
    @property
    def other_document_url(self) -> str | None:
        return f"/documents/{self.other_document_id}" if self.other_document_id else None


class ExploredFindings(Paged):
    rows: list[ExploredFinding]
    more: bool = Field(False, description="more findings match than `total` (the explorer counts and pages up to "
                                          "1,000; exports hold them all)")
