"""The exact key strings: every site key carries the site as a cluster hash tag."""

from __future__ import annotations

from service.store.keys import Keys


def test_key_strings_are_pinned() -> None:
    k = Keys("pw")
    assert k.sites() == "pw:sites"
    assert k.salt("2026-11-26") == "pw:salt:2026-11-26"
    assert k.tokens() == "pw:tokens"
    assert k.settings("thanhxuan") == "pw:{thanhxuan}:settings"
    assert k.once("thanhxuan", "abc") == "pw:{thanhxuan}:once:abc"
    assert k.session("thanhxuan", "v1") == "pw:{thanhxuan}:session:v1"
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


def test_prefix_is_configurable() -> None:
    assert Keys("district").settings("a") == "district:{a}:settings"
