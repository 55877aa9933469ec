"""Every Redis key string. Site keys carry the site id as a hash tag: `pw:{site}:...`."""

from __future__ import annotations


class Keys:
    """Builds keys under one prefix; the only place key strings are written."""

    def __init__(self, prefix: str = "pw") -> None:
        self.prefix = prefix

    # global keys (one slot each; never used together with a site's keys in one step)
    def sites(self) -> str:
        """Set of all site ids."""
        return f"{self.prefix}:sites"

    def salt(self, day: str) -> str:
        """The random salt of one calendar day, shared by all instances."""
        return f"{self.prefix}:salt:{day}"

    def tokens(self) -> str:
        """Hash of admin token name -> JSON record (hash, scope, created)."""
        return f"{self.prefix}:tokens"

    def groups(self) -> str:
        """Set of all group ids."""
        return f"{self.prefix}:groups"

    def group(self, group: str) -> str:
        """JSON document of one group: name and member site ids."""
        return f"{self.prefix}:group:{group}"

    def imports(self) -> str:
        """Hash export id -> JSON {site, into, state}: each export file is imported once."""
        return f"{self.prefix}:imports"

    def schema(self) -> str:
        """The data layout's version (service.store.schema): an integer as text."""
        return f"{self.prefix}:schema"

    def everything(self) -> str:
        """SCAN pattern of every key under the prefix (is the deployment empty?)."""
        return f"{self.prefix}:*"

    def all_sites_pattern(self) -> str:
        """SCAN pattern of every per-site key of every site, listed or not."""
        return f"{self.prefix}:{{*}}:*"

    def site_of(self, key: str) -> tuple[str, str] | None:
        """(site id, the rest after `pw:{site}:`) of a per-site key; None for other keys."""
        head = f"{self.prefix}:{{"
        if not key.startswith(head):
            return None
        site, sep, rest = key[len(head):].partition("}:")
        return (site, rest) if sep and site else None

    # per-site keys
    def _site(self, site: str, *parts: str) -> str:
        return ":".join((f"{self.prefix}:{{{site}}}", *parts))

    def settings(self, site: str) -> str:
        """Hash of the site's settings."""
        return self._site(site, "settings")

    def once(self, site: str, request_id: str) -> str:
        """Idempotency marker of one request, so a retried script never counts twice."""
        return self._site(site, "once", request_id)

    def session(self, site: str, visitor: str) -> str:
        """Layouts 1-4 only: the visitor's last activity (ms) while their visit was open.
        Layout 5 keeps it in `online` (migration m0005 folds these keys into it)."""
        return self._site(site, "session", visitor)

    def sessions_pattern(self) -> str:
        """SCAN pattern of the layout-4 session keys of every site (migration m0005)."""
        return f"{self.prefix}:{{*}}:session:*"

    def dedupe(self, site: str, visitor: str, path_hash: str) -> str:
        """Exists while a reload of this page by this visitor is not another view."""
        return self._site(site, "seen", visitor, path_hash)

    def online(self, site: str) -> str:
        """Sorted set visitor -> last activity (ms), kept the session timeout: "online" is
        those inside the online window, and a visit is open while its entry is younger than
        the session timeout (hit.lua)."""
        return self._site(site, "online")

    def total(self, site: str) -> str:
        """Hash {v, p} of all-time measured visits and pageviews."""
        return self._site(site, "total")

    def counter(self, site: str, period: str) -> str:
        """Hash {v, p} for one week (2026-W48), month (2026-11) or year (2026)."""
        return self._site(site, "c", period)

    def history(self, site: str, year: str) -> str:
        """Hash of daily figures of one local year: fields MM-DD:v, MM-DD:p, MM-DD:u."""
        return self._site(site, "hist", year)

    def uniques(self, site: str, period: str) -> str:
        """HyperLogLog of visitor ids for a day, week, month or year."""
        return self._site(site, "hll", period)

    def uniques_cache(self, site: str) -> str:
        """Hash of recently counted uniques (ts, day, d, w, m, y)."""
        return self._site(site, "ucache")

    def imported(self, site: str) -> str:
        """Hash of admin-set baselines: v:total, v:year, v:year:id, ..."""
        return self._site(site, "imported")

    # Per-page data: each path is stored once (page_paths); everything else refers to it by
    # its page id, a 16-hex-digit hash of the path computed by the caller.
    def page_views(self, site: str) -> str:
        """Sorted set page id -> all-time views; its size is bounded by max_pages."""
        return self._site(site, "pv")

    def page_paths(self, site: str) -> str:
        """Hash page id -> path (the only copy of each path)."""
        return self._site(site, "paths")

    def page_titles(self, site: str) -> str:
        """Hash page id -> title."""
        return self._site(site, "ptitle")

    def title_proposals(self, site: str) -> str:
        """Hash page id -> a proposed new title's hash and the addresses that reported it."""
        return self._site(site, "ptitle-next")

    def titles_locked(self, site: str) -> str:
        """Set of page ids whose title an admin set (hits never change it)."""
        return self._site(site, "ptitle-locked")

    def pages_hidden(self, site: str) -> str:
        """Set of page ids an admin hid from top lists."""
        return self._site(site, "phidden")

    def rank(self, site: str, period: str) -> str:
        """Sorted set page id -> views in one day, week, month or year (top lists)."""
        return self._site(site, "rank", period)

    # Verification of pages against the portal's own page (service.pages.check)
    def page_states(self, site: str) -> str:
        """Hash page id -> "<state>|<last check ms>|<client title hash>" (verifying sites)."""
        return self._site(site, "pstate")

    def pages_unlisted(self, site: str) -> str:
        """Sorted set page id -> views of the unverified and rejected pages in the table."""
        return self._site(site, "punlisted")

    def page_candidates(self, site: str) -> str:
        """Hash page id -> path of new paths waiting outside a table full of verified pages."""
        return self._site(site, "pcand")

    def candidates_rejected(self, site: str) -> str:
        """Sorted set page id -> when (ms) the portal rejected that candidate (the newest
        10,000 kept): not fetched again for a day."""
        return self._site(site, "pcand-rejected")

    def check_queue(self, site: str) -> str:
        """Sorted set page id -> when (ms) its page is due to be fetched."""
        return self._site(site, "checkq")

    def check_tries(self, site: str) -> str:
        """Hash page id -> failed fetches in a row (backoff)."""
        return self._site(site, "checktries")

    def check_rate(self, site: str, second: int) -> str:
        """Fetches of one site's pages started in one second (at most 2)."""
        return self._site(site, "checkrate", str(second))

    def rate(self, site: str, scope: str, address: str, window: int) -> str:
        """Requests of one client address unit in one fixed window (hits, heartbeats, votes)."""
        return self._site(site, "rl", scope, address, str(window))

    def hotlines(self, site: str) -> str:
        """JSON document: the box title and the ordered hotline list."""
        return self._site(site, "hotlines")

    def hotline_clicks(self, site: str) -> str:
        """Hash hotline id -> clicks."""
        return self._site(site, "hotline-clicks")

    def polls(self, site: str) -> str:
        """Sorted set of poll ids by creation time."""
        return self._site(site, "polls")

    def current_poll(self, site: str) -> str:
        """Id of the poll that `current` means."""
        return self._site(site, "poll-current")

    def poll(self, site: str, poll: str) -> str:
        """JSON definition of one poll."""
        return self._site(site, "poll", poll)

    def poll_tally(self, site: str, poll: str) -> str:
        """Hash option id -> votes, plus `_total` (ballots)."""
        return self._site(site, "poll", poll, "tally")

    def poll_voters(self, site: str, poll: str) -> str:
        """Set of keyed hashes of browser tokens that voted."""
        return self._site(site, "poll", poll, "voters")

    def poll_ips(self, site: str, poll: str) -> str:
        """Hash keyed hash of client IP -> votes from it."""
        return self._site(site, "poll", poll, "ips")

    def poll_nonces(self, site: str, poll: str) -> str:
        """Sorted set of used ticket nonces by expiry."""
        return self._site(site, "poll", poll, "nonces")

    # Ratings of information (one bucket per month YYYY-MM, per year YYYY, and `all`): only
    # counts are kept with the page; who rated is a keyed hash that is forgotten in 90 days.
    def ratings(self, site: str, bucket: str) -> str:
        """Hash of counts of one bucket: u, n, r:<reason> (site) and <page id>:u|n|r:<reason>."""
        return self._site(site, "rt", bucket)

    def rated_pages(self, site: str, bucket: str) -> str:
        """Sorted set page id -> ratings in one bucket (most rated, every rated page)."""
        return self._site(site, "rt-pages", bucket)

    def raters(self, site: str) -> str:
        """Sorted set keyed hash of (site, page, browser token) -> when it is forgotten (ms)."""
        return self._site(site, "rt-raters")

    def rating_nonces(self, site: str) -> str:
        """Sorted set of used rating-ticket nonces by expiry."""
        return self._site(site, "rt-nonces")

    def rating_allowance(self, site: str, month: str) -> str:
        """Hash keyed hash of (page, address unit or IPv6 /48) -> ratings in one month."""
        return self._site(site, "rt-ip", month)

    def sources(self, site: str, year: str) -> str:
        """Hash of one local year's new visits by source: fields MM-DD:<category>."""
        return self._site(site, "src", year)

    def source_hosts(self, site: str, month: str) -> str:
        """Sorted set referring host -> new visits in one month (at most 200 hosts)."""
        return self._site(site, "src-hosts", month)

    def aliases(self, site: str) -> str:
        """Set of the site ids merged into this site (its aliases)."""
        return self._site(site, "aliases")

    def merge_progress(self, target: str, source: str) -> str:
        """Hash step -> time done (ms) of merging `source` into `target` (target's slot)."""
        return self._site(target, "merge", source)

    def merge_scratch(self, target: str, source: str) -> str:
        """Temporary copy of one of the source's HyperLogLogs, in the target's slot."""
        return self._site(target, "merge-tmp", source)

    def import_progress(self, site: str) -> str:
        """Hash of the import creating this site: export_id, lines applied, active."""
        return self._site(site, "import")

    def site_pattern(self, site: str) -> str:
        """SCAN pattern matching every key of one site (for purge)."""
        return self._site(site, "*")

    def merge_markers_pattern(self, source: str) -> str:
        """SCAN pattern of the merge progress hashes and scratch keys that name `source`,
        in whatever target's slot they lie (for purge)."""
        return f"{self.prefix}:{{*}}:merge*:{source}"

    def deleted(self, site: str) -> str:
        """Tombstone of a site deleted without purge: JSON {deleted_at, settings}; the id
        cannot be created again while it exists (its data is kept)."""
        return self._site(site, "deleted")

    # Keys of earlier layouts, read only by the migrations (service/store/migrations).
    def v1_pages(self, site: str) -> str:
        """Layout 1 (v0.1.0): hash path -> all-time views."""
        return self._site(site, "pages")

    def v1_titles(self, site: str) -> str:
        """Layout 1: hash path -> last title seen."""
        return self._site(site, "titles")

    def v1_top(self, site: str, period: str) -> str:
        """Layout 1: sorted set path -> views in one day, week, month or year."""
        return self._site(site, "top", period)
