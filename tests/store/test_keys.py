"""The exact key strings: every site key carries the site as a cluster hash tag."""

from __future__ import annotations

from service.counting import visits
from service.sites import Site
from service.store import Store
from service.store.keys import Keys
from service.store.pages import page_id
from tests.conftest import at


def test_key_strings_are_pinned() -> None:
    k = Keys("pw")
    assert k.sites() == "pw:sites"
    assert k.salt("2026-11-26") == "pw:salt:2026-11-26"
    assert k.tokens() == "pw:tokens"
    assert k.settings("thanhxuan") == "pw:{thanhxuan}:settings"
    assert k.once("thanhxuan", "abc") == "pw:{thanhxuan}:once:abc"
    assert k.session("thanhxuan", "v1") == "pw:{thanhxuan}:session:v1"  # layouts 1-4
    assert k.sessions_pattern() == "pw:{*}:session:*"
    assert k.dedupe("thanhxuan", "v1", "h") == "pw:{thanhxuan}:seen:v1:h"
    assert k.online("thanhxuan") == "pw:{thanhxuan}:online"
    assert k.total("thanhxuan") == "pw:{thanhxuan}:total"
    assert k.counter("thanhxuan", "2026-W53") == "pw:{thanhxuan}:c:2026-W53"
    assert k.history("thanhxuan", "2026") == "pw:{thanhxuan}:hist:2026"
    assert k.uniques("thanhxuan", "2026-11-26") == "pw:{thanhxuan}:hll:2026-11-26"
    assert k.imported("thanhxuan") == "pw:{thanhxuan}:imported"
    assert k.uniques_cache("thanhxuan") == "pw:{thanhxuan}:ucache"
    assert k.page_views("thanhxuan") == "pw:{thanhxuan}:pv"
    assert k.page_paths("thanhxuan") == "pw:{thanhxuan}:paths"
    assert k.page_titles("thanhxuan") == "pw:{thanhxuan}:ptitle"
    assert k.title_proposals("thanhxuan") == "pw:{thanhxuan}:ptitle-next"
    assert k.titles_locked("thanhxuan") == "pw:{thanhxuan}:ptitle-locked"
    assert k.pages_hidden("thanhxuan") == "pw:{thanhxuan}:phidden"
    assert k.rank("thanhxuan", "2026-11") == "pw:{thanhxuan}:rank:2026-11"
    assert k.page_states("thanhxuan") == "pw:{thanhxuan}:pstate"
    assert k.pages_unlisted("thanhxuan") == "pw:{thanhxuan}:punlisted"
    assert k.page_candidates("thanhxuan") == "pw:{thanhxuan}:pcand"
    assert k.candidates_rejected("thanhxuan") == "pw:{thanhxuan}:pcand-rejected"
    assert k.check_queue("thanhxuan") == "pw:{thanhxuan}:checkq"
    assert k.check_tries("thanhxuan") == "pw:{thanhxuan}:checktries"
    assert k.check_rate("thanhxuan", 1764806400) == "pw:{thanhxuan}:checkrate:1764806400"
    assert k.rate("thanhxuan", "hit", "ab12", 29654) == "pw:{thanhxuan}:rl:hit:ab12:29654"
    assert k.hotlines("thanhxuan") == "pw:{thanhxuan}:hotlines"
    assert k.hotline_clicks("thanhxuan") == "pw:{thanhxuan}:hotline-clicks"
    assert k.polls("thanhxuan") == "pw:{thanhxuan}:polls"
    assert k.current_poll("thanhxuan") == "pw:{thanhxuan}:poll-current"
    assert k.poll("thanhxuan", "p1") == "pw:{thanhxuan}:poll:p1"
    assert k.poll_tally("thanhxuan", "p1") == "pw:{thanhxuan}:poll:p1:tally"
    assert k.poll_voters("thanhxuan", "p1") == "pw:{thanhxuan}:poll:p1:voters"
    assert k.poll_ips("thanhxuan", "p1") == "pw:{thanhxuan}:poll:p1:ips"
    assert k.poll_nonces("thanhxuan", "p1") == "pw:{thanhxuan}:poll:p1:nonces"
    assert k.sources("thanhxuan", "2026") == "pw:{thanhxuan}:src:2026"
    assert k.source_hosts("thanhxuan", "2026-11") == "pw:{thanhxuan}:src-hosts:2026-11"
    assert k.ratings("thanhxuan", "2026-11") == "pw:{thanhxuan}:rt:2026-11"
    assert k.ratings("thanhxuan", "all") == "pw:{thanhxuan}:rt:all"
    assert k.rated_pages("thanhxuan", "2026") == "pw:{thanhxuan}:rt-pages:2026"
    assert k.raters("thanhxuan") == "pw:{thanhxuan}:rt-raters"
    assert k.rating_nonces("thanhxuan") == "pw:{thanhxuan}:rt-nonces"
    assert k.rating_allowance("thanhxuan", "2026-11") == "pw:{thanhxuan}:rt-ip:2026-11"
    assert k.groups() == "pw:groups"
    assert k.group("hanoi") == "pw:group:hanoi"
    assert k.aliases("thanhxuan") == "pw:{thanhxuan}:aliases"
    assert k.merge_progress("thanhxuan", "old") == "pw:{thanhxuan}:merge:old"
    assert k.merge_scratch("thanhxuan", "old") == "pw:{thanhxuan}:merge-tmp:old"
    assert k.site_pattern("thanhxuan") == "pw:{thanhxuan}:*"
    assert k.imports() == "pw:imports"
    assert k.import_progress("thanhxuan") == "pw:{thanhxuan}:import"
    assert k.schema() == "pw:schema"
    assert k.everything() == "pw:*"
    assert k.all_sites_pattern() == "pw:{*}:*"
    assert k.deleted("thanhxuan") == "pw:{thanhxuan}:deleted"
    assert k.merge_markers_pattern("old") == "pw:{*}:merge*:old"
    # layout 1 (v0.1.0), read only by the migration to layout 2
    assert k.v1_pages("thanhxuan") == "pw:{thanhxuan}:pages"
    assert k.v1_titles("thanhxuan") == "pw:{thanhxuan}:titles"
    assert k.v1_top("thanhxuan", "2026-11") == "pw:{thanhxuan}:top:2026-11"


def test_a_site_key_names_its_site() -> None:
    k = Keys("pw")
    assert k.site_of("pw:{thanhxuan}:rank:2026-11") == ("thanhxuan", "rank:2026-11")
    assert k.site_of("pw:{phuong-b}:merge:phuong-a") == ("phuong-b", "merge:phuong-a")
    for other in ("pw:sites", "pw:group:hanoi", "pw:LIMITER/x", "other:{a}:total", "pw:{a}"):
        assert k.site_of(other) is None


def test_prefix_is_configurable() -> None:
    assert Keys("district").settings("a") == "district:{a}:settings"


def test_a_hit_keeps_one_seen_entry_per_visitor(store: Store, site: Site) -> None:
    """Layout 5: the online set is the visit's session too (each visitor's last activity,
    kept the session timeout); no key per visitor's session."""
    now = at("2026-11-26T10:00:00+07:00")
    visits.record_hit(store, site, visitor="v1", path="/a", title="", now=now)
    k = store.keys
    assert store.redis.zrange(k.online(site.id), 0, -1, withscores=True) == [
        ("v1", now.timestamp() * 1000)]
    assert 1_790_000 < store.redis.pttl(k.online(site.id)) <= 1_800_000
    assert list(store.redis.scan_iter(match=k.sessions_pattern())) == []
    assert store.redis.get(k.dedupe(site.id, "v1", page_id("/a"))) == str(
        int(now.timestamp() * 1000))
