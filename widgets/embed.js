/*! portal-widgets embed.js: visit counter, views, top pages, hotlines and poll.
 * Paste: <script async src="https://HOST/widgets/embed.js" data-site="SITE"></script>
 * Never throws into the host page; text only through textContent and attributes. */
(function () {
  'use strict';
  var S = document.currentScript;
  if (!S || !window.fetch || !window.URL) return;
  // The label table (widgets/labels.json), inlined by the service when it serves the file.
  var L = {/*labels*/};
  var CSS = ':host{display:block;font:inherit;color:var(--pw-color,inherit)}' +
    ':host([data-pw-widget=views]){display:inline}' +
    '.pw{font-size:var(--pw-font-size,inherit)}ul,ol{margin:0;padding:0;list-style:none}' +
    'li{padding:var(--pw-row-gap,2px) 0}.n{font-weight:bold;color:var(--pw-number-color,inherit)}' +
    '.m{font-size:.85em;opacity:.75}a{color:var(--pw-link-color,#0b57d0)}' +
    'h3{font-size:1em;margin:.5em 0 .2em}.ok{color:var(--pw-open-color,#137333)}' +
    '.bar{height:.5em;background:var(--pw-bar-bg,#e8e8e8);border-radius:3px}' +
    '.bar span{display:block;height:100%;background:var(--pw-accent,#a4161a);border-radius:3px}' +
    'fieldset{border:0;margin:0;padding:0}legend{font-weight:bold;margin-bottom:.3em;padding:0}' +
    'label{display:block;padding:2px 0}button{margin-top:.4em;font:inherit;padding:.3em .9em;' +
    'background:var(--pw-accent,#a4161a);color:var(--pw-button-color,#fff);border:0;border-radius:3px;cursor:pointer}' +
    'button:focus-visible,input:focus-visible,a:focus-visible{outline:2px solid var(--pw-focus,#0b57d0);outline-offset:2px}';

  function attr(name) { return S.getAttribute('data-' + name); }
  var site = attr('site') || '';
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(site)) return;
  var src = new URL(S.src, location.href);
  var base = src.origin + src.pathname.replace(/\/widgets\/embed(\.[0-9a-f]+)?\.js$/, '');
  var api = base + '/api/v1/sites/' + site;
  var lang = attr('lang') === 'en' ? 'en' : 'vi';
  var T = L[lang];
  var fmt = new Intl.NumberFormat(lang === 'en' ? 'en-US' : 'vi-VN');
  var track = attr('track') !== 'false';
  var path = attr('path') || location.pathname;

  function store(key, value) {
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem('pw:' + key) || 'null');
      localStorage.setItem('pw:' + key, JSON.stringify(value));
    } catch (e) { return null; }
  }
  function token() {
    var t = store('token');
    if (typeof t === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(t)) return t;
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    t = btoa(String.fromCharCode.apply(null, a)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    store('token', t);
    return store('token') === t ? t : '';
  }
  function req(url, body) {
    var o = { credentials: 'omit', mode: 'cors' };
    if (body) {
      o.method = 'POST';
      o.keepalive = true;
      o.headers = { 'Content-Type': 'text/plain' };
      o.body = JSON.stringify(body);
    }
    return fetch(url, o).then(function (r) {
      if (!r.ok) throw r;
      return r.status === 204 ? null : r.json();
    });
  }
  function beacon(url, body) {
    try {
      var data = JSON.stringify(body || {});
      if (!(navigator.sendBeacon && navigator.sendBeacon(url, new Blob([data], { type: 'text/plain' })))) {
        req(url, body || {}).catch(function () {});
      }
    } catch (e) { /* never into the host page */ }
  }
  function h(tag, props, kids) {
    var el = document.createElement(tag);
    for (var k in props || {}) {
      if (k === 'text') el.textContent = props[k];
      else if (props[k] !== null && props[k] !== undefined && props[k] !== false) el.setAttribute(k, props[k]);
    }
    (kids || []).forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }
  var sheet = null;
  function root(host) {
    var r = host.shadowRoot || host.pwRoot;
    if (!r) {
      try { r = host.attachShadow({ mode: 'open' }); } catch (e) {
        r = host.pwRoot = host.appendChild(h('span')).attachShadow({ mode: 'open' });
      }
    }
    try {
      sheet = sheet || new CSSStyleSheet();
      if (!sheet.cssRules.length) sheet.replaceSync(CSS);
      r.adoptedStyleSheets = [sheet];
    } catch (e) { r.appendChild(h('style', { text: CSS })); }
    return r;
  }
  function show(host, node) {
    var r = root(host);
    while (r.firstChild) r.removeChild(r.firstChild);
    r.appendChild(node);
  }
  function when(t) {
    try { return new Date(t).toLocaleString(lang === 'en' ? 'en-GB' : 'vi-VN'); } catch (e) { return ''; }
  }
  var all = [];
  function each(kind, fn) {
    all.forEach(function (el) {
      if (el.getAttribute('data-pw-widget') === kind) {
        try { fn(el); } catch (e) { /* a bad widget never breaks the page */ }
      }
    });
  }

  function paint(el, stats, stale) {
    var win = Math.round((stats.online_window_seconds || 300) / 60);
    var rows = [
      [T.online, stats.online, T.onlineTip.replace('{n}', win)],
      [T.week, stats.visits.week, T.weekTip],
      [T.month, stats.visits.month], [T.year, stats.visits.year], [T.total, stats.visits.total]
    ];
    show(el, h('div', { 'class': 'pw', role: 'group', 'aria-label': T.stats }, [
      h('ul', {}, rows.map(function (r) {
        return h('li', { title: r[2] }, [h('span', { text: r[0] + ': ' }), h('span', { 'class': 'n', text: fmt.format(r[1]) })]);
      })),
      stale ? h('p', { 'class': 'm', text: T.asOf + ' ' + when(stale) }) : null
    ]));
  }
  function counter(stats, stale) {
    each('counter', function (el) { if (!el.getAttribute('data-group')) paint(el, stats, stale); });
  }
  // data-group="<group>": this counter shows the group's totals (the hit still counts for data-site)
  function group(el) {
    var g = el.getAttribute('data-group');
    if (!g || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(g)) return;
    req(base + '/api/v1/groups/' + g + '/stats').then(function (b) {
      paint(el, b);
      store('group:' + g, { t: Date.now(), s: b });
    }).catch(function () {
      var c = store('group:' + g);
      if (c && c.s && c.s.visits) paint(el, c.s, c.t);
    });
  }
  function views(n) {
    each('views', function (el) {
      show(el, h('span', { 'class': 'pw' }, [h('span', { text: T.views + ': ' }), h('span', { 'class': 'n', text: fmt.format(n) })]));
    });
  }
  function fromCache() {
    var c = store('stats:' + site);
    if (c && c.s && c.s.visits) counter(c.s, c.t);
    var v = store('views:' + site + path);
    if (typeof v === 'number') views(v);
  }
  function fill(body, views_) {
    counter(body);
    store('stats:' + site, { t: Date.now(), s: body });
    if (typeof views_ === 'number') {
      views(views_);
      store('views:' + site + path, views_);
    }
  }

  function topPages(el) {
    var limit = Math.min(50, Math.max(1, parseInt(el.getAttribute('data-limit'), 10) || 5));
    var period = el.getAttribute('data-period') || 'month';
    req(api + '/pages/top?period=' + encodeURIComponent(period) + '&limit=' + limit).then(function (b) {
      show(el, h('ol', { 'class': 'pw', 'aria-label': T.top }, b.pages.map(function (p) {
        return h('li', {}, [
          h('a', { href: location.origin + '/' + p.path.replace(/^\/+/, ''), text: p.title || p.path }),
          h('span', { 'class': 'm', text: ' (' + fmt.format(p.views) + ')' })
        ]);
      })));
    }).catch(function () {});
  }

  function hotlines(el) {
    req(api + '/hotlines').then(function (b) {
      var groups = [], by = {};
      b.hotlines.forEach(function (x) {
        var g = x.group || '';
        if (!by[g]) { by[g] = []; groups.push(g); }
        by[g].push(x);
      });
      show(el, h('div', { 'class': 'pw', role: 'region', 'aria-label': b.title || T.hotlines }, groups.map(function (g) {
        return h('div', {}, [g ? h('h3', { text: g }) : null, h('ul', {}, by[g].map(function (x) {
          var a = h('a', { href: 'tel:' + x.tel, 'aria-label': T.call + ' ' + x.label + ' ' + x.number, text: x.number });
          a.addEventListener('click', function () { beacon(api + '/hotlines/' + encodeURIComponent(x.id) + '/clicks'); });
          return h('li', {}, [
            h('span', { text: x.label + ': ' }), a,
            x.open_now === null ? null : h('span', { 'class': x.open_now ? 'm ok' : 'm', text: ' · ' + (x.open_now ? T.open : T.shut) }),
            x.note ? h('div', { 'class': 'm', text: x.note }) : null
          ]);
        }))]);
      })));
      var ld = h('script', { type: 'application/ld+json' });
      ld.textContent = JSON.stringify({
        '@context': 'https://schema.org', '@type': 'GovernmentOrganization', name: document.title,
        contactPoint: b.hotlines.map(function (x) {
          return { '@type': 'ContactPoint', contactType: x.label, telephone: x.tel, areaServed: 'VN', availableLanguage: 'vi' };
        })
      });
      el.appendChild(ld);
    }).catch(function () {});
  }

  function poll(el) {
    var id = el.getAttribute('data-poll') || 'current';
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(id)) return;
    var live = h('p', { 'class': 'm', 'aria-live': 'polite', role: 'status' });
    function results(p, note) {
      var total = p.total_votes;
      var kids = [h('p', { 'class': 'q', text: p.question })];
      if (p.results_visible && total !== null) {
        kids.push(h('ul', {}, p.options.map(function (o) {
          var pct = total ? Math.round(o.votes * 1000 / total) / 10 : 0;
          // CSSOM, not a style attribute: a host CSP without 'unsafe-inline' allows it.
          var fill = h('span');
          fill.style.width = pct + '%';
          return h('li', {}, [
            h('span', { text: o.label + ': ' + pct + '% (' + fmt.format(o.votes) + ')' }),
            h('div', { 'class': 'bar', role: 'presentation' }, [fill])
          ]);
        })));
        kids.push(h('p', { 'class': 'm', text: T.totalVotes + ': ' + fmt.format(total) }));
      } else kids.push(h('p', { 'class': 'm', text: T.hidden }));
      live.textContent = note || '';
      kids.push(live);
      show(el, h('div', { 'class': 'pw' }, kids));
    }
    req(api + '/polls/' + id).then(function (p) {
      var mine = store('voted:' + site + ':' + p.id);
      if (p.status !== 'open') return results(p, p.status === 'closed' ? T.closed : T.soon);
      if (mine) return results(p.results_visible ? p : mine, T.already);
      var form = h('form', { 'class': 'pw' });
      var set = h('fieldset', {}, [h('legend', { text: p.question })]);
      p.options.forEach(function (o, i) {
        var input = h('input', { type: p.multiple ? 'checkbox' : 'radio', name: 'o', value: o.id, id: 'pw-' + p.id + '-' + i });
        set.appendChild(h('label', { 'for': 'pw-' + p.id + '-' + i }, [input, document.createTextNode(' ' + o.label)]));
      });
      form.appendChild(set);
      form.appendChild(h('button', { type: 'submit', text: T.vote }));
      form.appendChild(live);
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var chosen = [].slice.call(form.querySelectorAll('input:checked')).map(function (x) { return x.value; });
        if (!chosen.length) { live.textContent = T.pick; return; }
        req(api + '/polls/' + p.id + '/votes', { options: chosen, ticket: p.ticket, token: token() }).then(function (r) {
          store('voted:' + site + ':' + p.id, r);
          results(r, T.voted);
        }).catch(function (r) {
          if (r && r.status === 409) {
            store('voted:' + site + ':' + p.id, p);
            return results(p, T.already);
          }
          live.textContent = T.fail;
          req(api + '/polls/' + p.id).then(function (f) { p.ticket = f.ticket; }).catch(function () {});
        });
      });
      show(el, form);
    }).catch(function () {});
  }

  function heartbeat() {
    var started = Date.now();
    var timer = setInterval(function () {
      if (Date.now() - started > 30 * 60 * 1000) return clearInterval(timer);
      if (document.visibilityState === 'visible') beacon(api + '/heartbeat', { path: path, token: token() });
    }, 60 * 1000);
  }

  function start() {
    all = [].slice.call(document.querySelectorAll('[data-pw-widget]'));
    var wantsStats = all.some(function (el) { return /^(counter|views)$/.test(el.getAttribute('data-pw-widget')); });
    if (track) {
      req(api + '/hits', { path: path, title: document.title.slice(0, 200), referrer: document.referrer.slice(0, 500), token: token() })
        .then(function (b) { fill(b, b.page.views); heartbeat(); })
        .catch(fromCache);
    } else if (wantsStats) {
      req(api + '/stats').then(function (b) { fill(b); }).catch(fromCache);
      req(api + '/pages?path=' + encodeURIComponent(path)).then(function (b) {
        var p = b.pages[Object.keys(b.pages)[0]];
        if (p) views(p.views);
      }).catch(function () {});
    }
    each('counter', group);
    each('top-pages', topPages);
    each('hotlines', hotlines);
    each('poll', poll);
  }
  try {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { try { start(); } catch (e) {} });
    else start();
  } catch (e) { /* never into the host page */ }
})();
