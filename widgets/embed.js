/*! portal-widgets embed.js: counter, views, top pages, hotlines, poll, rating */
/* Paste: <script async src="https://HOST/widgets/embed.js" data-site="SITE"></script>
 * Never throws into the host page; text only through textContent and attributes.
 * Costs the host page little: at parse time it reads its attributes and nothing else; the
 * requests start when the page is idle, and each widget is drawn in a task of its own.
 * Safe on hostile pages: no for-in (a host may extend Object.prototype), lookups in
 * prototype-less objects, styles in shadow roots through CSSOM (allowed by a strict CSP). */
(function () {
  'use strict';
  var S = document.currentScript;
  if (!S || !window.fetch || !window.URL || !Object.keys) return;
  // The label table (widgets/labels.json), inlined by the service when it serves the file.
  var L = {/*labels*/};
  var CSS = ':host{display:block;font:inherit;color:var(--pw-color,inherit);text-align:start}' +
    ':host([data-pw-widget=views]){display:inline-block}' +
    '.pw{font-size:var(--pw-font-size,inherit);line-height:1.5}ul,ol,p{margin:0;padding:0;list-style:none}' +
    '.n{font-weight:bold;color:var(--pw-number-color,inherit)}.n,.w{white-space:nowrap}.c{display:block}' +
    '.m{font-size:.85em;opacity:.8}a{color:var(--pw-link-color,#0b57d0)}' +
    // a top-list entry takes at most two lines, so that the reserved box holds the list
    'ol li{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden}' +
    'h3{font-size:1em;margin:0}.ok{color:var(--pw-open-color,#137333)}' +
    '.bar{display:block;height:.5em;margin-bottom:.2em;background:var(--pw-bar-bg,#e6e6e6);border-radius:3px}' +
    '.bar span{display:block;height:100%;background:var(--pw-accent,#4a5568);border-radius:3px}' +
    'fieldset{border:0;margin:0;padding:0;min-width:0}legend{font-weight:bold;padding:0}' +
    'label{display:block;cursor:pointer}input{margin:0 .4em 0 0}' +
    'button{display:inline-block;margin:.2em .4em .2em 0;font:inherit;line-height:1.5;padding:0 .9em;' +
    'background:var(--pw-accent,#4a5568);color:var(--pw-button-color,#fff);border:0;border-radius:3px;cursor:pointer}' +
    'button:focus-visible,input:focus-visible,a:focus-visible{outline:2px solid var(--pw-focus,#0b57d0);outline-offset:2px}';
  var RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

  function attr(name) { return S.getAttribute('data-' + name); }
  var site = attr('site') || '';
  if (!RE.test(site)) return;
  var src = new URL(S.src, location.href);
  var base = src.origin + src.pathname.replace(/\/widgets\/embed(\.[0-9a-f]+)?\.js$/, '');
  var api = base + '/api/v1/sites/' + site;
  var lang = attr('lang') === 'en' ? 'en' : 'vi';
  var T = L[lang];
  var track = attr('track') !== 'false';
  var path = attr('path') || location.pathname;

  // 12.380.046 / 12,380,046 without Intl (building a NumberFormat costs tens of ms on a slow phone)
  function fmt(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'en' ? ',' : '.'); }
  // "1 view", "2 views"; Vietnamese has one form
  function count(n, one, many) { return fmt(n) + ' ' + T[n === 1 ? one : many]; }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function when(t) {
    var d = new Date(t);
    return two(d.getDate()) + '/' + two(d.getMonth() + 1) + '/' + d.getFullYear() + ' ' + two(d.getHours()) + ':' + two(d.getMinutes());
  }
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
  // One task per call, when the page is idle (rendering never runs inside a network callback).
  function later(fn) {
    var run = function () { try { fn(); } catch (e) { /* a bad widget never breaks the page */ } };
    if (window.requestIdleCallback) requestIdleCallback(run, { timeout: 1500 }); else setTimeout(run, 1);
  }
  function h(tag, props, kids) {
    var el = document.createElement(tag);
    props = props || {};
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (k === 'text') el.textContent = v;
      else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v);
    });
    (kids || []).forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }
  function txt(cls, text, extra) { return h('p', { 'class': cls, text: text, role: extra }); }
  var sheet = null;
  function show(host, node) {
    var r = host.shadowRoot;
    if (!r) {
      r = host.attachShadow({ mode: 'open' });
      try {
        sheet = sheet || new CSSStyleSheet();
        if (!sheet.cssRules.length) sheet.replaceSync(CSS);
        r.adoptedStyleSheets = [sheet];
      } catch (e) { r.appendChild(h('style', { text: CSS })); }
    }
    [].slice.call(r.childNodes).forEach(function (c) { if (c.nodeName !== 'STYLE') r.removeChild(c); });
    r.appendChild(node);
  }
  var all = [];
  function each(kind, fn) {
    all.forEach(function (el) {
      if (el.getAttribute('data-pw-widget') === kind) later(function () { fn(el); });
    });
  }
  // "label: 123": a no-break space keeps each figure beside (the end of) its label
  function row(label, value, tip) {
    return h('li', { title: tip }, [h('span', { text: label + ':\u00a0' }), h('span', { 'class': 'n', text: value })]);
  }

  function paint(el, stats, stale) {
    var v = stats.visits;
    var rows = [[T.online, stats.online, T.onlineTip.replace('{n}', Math.round((stats.online_window_seconds || 300) / 60))],
      [T.week, v.week, T.weekTip], [T.month, v.month], [T.year, v.year], [T.total, v.total]];
    show(el, h('div', { 'class': 'pw', role: 'group', 'aria-label': T.stats }, [
      h('ul', {}, rows.map(function (r) { return row(r[0], fmt(r[1]), r[2]); })),
      stale ? txt('m', T.asOf + ' ' + when(stale)) : null
    ]));
  }
  function counter(stats, stale) {
    each('counter', function (el) { if (!el.getAttribute('data-group')) paint(el, stats, stale); });
  }
  // data-group="<group>": this counter shows the group's totals (the hit still counts for data-site)
  function group(el) {
    var g = el.getAttribute('data-group');
    if (!g || !RE.test(g)) return;
    req(base + '/api/v1/groups/' + g + '/stats').then(function (b) {
      later(function () { paint(el, b); });
      store('group:' + g, { t: Date.now(), s: b });
    }).catch(function () {
      var c = store('group:' + g);
      if (c && c.s && c.s.visits) later(function () { paint(el, c.s, c.t); });
    });
  }
  function views(n) {
    each('views', function (el) {
      show(el, h('span', { 'class': 'pw' }, [h('span', { text: T.views + ':\u00a0' }), h('span', { 'class': 'n', text: fmt(n) })]));
    });
  }
  function fromCache() {
    var c = store('stats:' + site);
    if (c && c.s && c.s.visits) counter(c.s, c.t);
    var v = store('views:' + site + path);
    if (typeof v === 'number') views(v);
  }
  function fill(body, n) {
    counter(body);
    store('stats:' + site, { t: Date.now(), s: body });
    if (typeof n === 'number') {
      views(n);
      store('views:' + site + path, n);
    }
  }

  function topPages(el) {
    var limit = Math.min(50, Math.max(1, parseInt(el.getAttribute('data-limit'), 10) || 5));
    var period = el.getAttribute('data-period') || 'month';
    req(api + '/pages/top?period=' + encodeURIComponent(period) + '&limit=' + limit).then(function (b) {
      later(function () {
        show(el, b.pages.length ? h('ol', { 'class': 'pw', 'aria-label': T.top }, b.pages.map(function (p) {
          return h('li', {}, [
            h('a', { href: location.origin + '/' + p.path.replace(/^\/+/, ''), title: p.title, text: p.title || p.path }),
            h('span', { 'class': 'm w', text: '\u00a0(' + count(p.views, 'view1', 'viewN') + ')' })
          ]);
        })) : txt('pw m', T.noPages));
      });
    }).catch(function () {});
  }

  function hotlines(el) {
    req(api + '/hotlines').then(function (b) {
      later(function () {
        var groups = [], by = Object.create(null);
        b.hotlines.forEach(function (x) {
          var g = x.group || '';
          if (!by[g]) { by[g] = []; groups.push(g); }
          by[g].push(x);
        });
        show(el, h('div', { 'class': 'pw', role: 'region', 'aria-label': b.title || T.hotlines }, groups.length ? groups.map(function (g) {
          return h('div', {}, [g ? h('h3', { text: g }) : null, h('ul', {}, by[g].map(function (x) {
            var a = h('a', { href: 'tel:' + x.tel, 'aria-label': T.call + ' ' + x.label + ' ' + x.number, text: x.number });
            a.addEventListener('click', function () { beacon(api + '/hotlines/' + encodeURIComponent(x.id) + '/clicks'); });
            // the hours note stays on its number's line: a no-break space before the dot
            return h('li', { 'class': 'c' }, [
              h('span', { 'class': 'c', text: x.label }), a,
              x.open_now === null ? null : h('span', { 'class': x.open_now ? 'm ok' : 'm', text: '\u00a0· ' + (x.open_now ? T.open : T.shut) }),
              x.note ? h('span', { 'class': 'm c', text: x.note }) : null
            ]);
          }))]);
        }) : [txt('m', T.noHotlines)]));
        if (!b.hotlines.length) return;
        var ld = h('script', { type: 'application/ld+json' });
        ld.textContent = JSON.stringify({
          '@context': 'https://schema.org', '@type': 'GovernmentOrganization', name: b.site_name || site,
          contactPoint: b.hotlines.map(function (x) {
            return { '@type': 'ContactPoint', contactType: x.label, telephone: x.tel, areaServed: 'VN', availableLanguage: 'vi' };
          })
        });
        el.appendChild(ld);
      });
    }).catch(function () {});
  }

  // A form of checkboxes or radios; send(chosen ids, done) posts it.
  function form(legend, type, options, button, live, send) {
    var f = h('form', { 'class': 'pw' });
    var set = h('fieldset', {}, [h('legend', { text: legend })]);
    options.forEach(function (o) {
      set.appendChild(h('label', {}, [h('input', { type: type, name: 'o', value: o[0] }), document.createTextNode(o[1])]));
    });
    f.appendChild(set);
    f.appendChild(h('button', { type: 'submit', text: button }));
    f.appendChild(live);
    f.addEventListener('submit', function (ev) {
      ev.preventDefault();
      send([].slice.call(f.querySelectorAll('input:checked')).map(function (x) { return x.value; }));
    });
    return f;
  }
  // A refused or failed post: 409 means done already; anything else asks for a retry.
  function failed(live, again, done) {
    return function (r) {
      if (r && r.status === 409) return done();
      live.textContent = T.fail;
      again();
    };
  }

  function poll(el) {
    var id = el.getAttribute('data-poll') || 'current';
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(id)) return;
    var live = txt('m', '', 'status');
    live.setAttribute('aria-live', 'polite');
    function results(p, note) {
      var total = p.total_votes;
      var kids = [txt('q', p.question)];
      if (p.results_visible && total !== null) {
        kids.push(h('ul', {}, p.options.map(function (o) {
          var pct = total ? Math.round(o.votes * 1000 / total) / 10 : 0;
          // CSSOM, not a style attribute: a host CSP without 'unsafe-inline' allows it.
          var bar = h('span');
          bar.style.width = pct + '%';
          return h('li', {}, [h('span', { text: o.label + ': ' + pct + '% (' + count(o.votes, 'vote1', 'voteN') + ')' }),
            h('span', { 'class': 'bar', role: 'presentation' }, [bar])]);
        })));
        kids.push(txt('m', T.totalVotes + ': ' + fmt(total)));
      } else kids.push(txt('m', T.hidden));
      live.textContent = note || '';
      kids.push(live);
      show(el, h('div', { 'class': 'pw' }, kids));
    }
    function load(p) {
      var key = 'voted:' + site + ':' + p.id, mine = store(key);
      if (p.status !== 'open') return results(p, p.status === 'closed' ? T.closed : T.soon);
      if (mine) return results(p.results_visible ? p : mine, T.already);
      show(el, form(p.question, p.multiple ? 'checkbox' : 'radio', p.options.map(function (o) { return [o.id, o.label]; }), T.vote, live, function (chosen) {
        if (!chosen.length) { live.textContent = T.pick; return; }
        req(api + '/polls/' + p.id + '/votes', { options: chosen, ticket: p.ticket, token: token() }).then(function (r) {
          store(key, r);
          results(r, T.voted);
        }).catch(failed(live, function () {
          req(api + '/polls/' + p.id).then(function (f) { p.ticket = f.ticket; }).catch(function () {});
        }, function () { store(key, p); results(p, T.already); }));
      }));
    }
    req(api + '/polls/' + id).then(function (p) { later(function () { load(p); }); }, function (r) {
      if (r && r.status === 404) later(function () { show(el, txt('pw m', T.noPoll)); });
    });
  }

  var REASONS = ['thieu', 'kho-hieu', 'sai', 'cu', 'khac'];
  function rating(el) {
    var p = el.getAttribute('data-path') || path, key = 'rated:' + site + ':' + p, b = {};
    var live = txt('m', '', 'status');
    live.setAttribute('aria-live', 'polite');
    function thanks() {
      store(key, 1);
      live.textContent = T.thanks;
      show(el, h('div', { 'class': 'pw' }, [live]));
    }
    function send(useful, reasons) {
      req(api + '/ratings', { path: p, useful: useful, reasons: reasons, ticket: b.ticket, token: token() })
        .then(thanks, failed(live, again, thanks));
    }
    function fresh() {
      return req(api + '/ratings?path=' + encodeURIComponent(p)).then(function (r) { b = r; });
    }
    function again() { fresh().catch(function () {}); }
    if (store(key)) return thanks();
    fresh().then(function () {
      later(function () {
        var no = h('button', { type: 'button', text: T.no });
        var yes = h('button', { type: 'button', text: T.yes });
        yes.addEventListener('click', function () { send(true, []); });
        no.addEventListener('click', function () {
          var f = form(T.why, 'checkbox', REASONS.map(function (r) { return [r, T['r-' + r]]; }), T.send, live, function (chosen) { send(false, chosen); });
          show(el, h('div', { 'class': 'pw' }, [txt('q', T.rateQ), f]));
          f.querySelector('input').focus();
        });
        show(el, h('div', { 'class': 'pw', role: 'group', 'aria-label': T.rateQ }, [txt('q', T.rateQ), yes, no, live]));
      });
    }).catch(function () {});
  }

  function heartbeat() {
    var started = Date.now();
    var timer = setInterval(function () {
      if (Date.now() - started > 30 * 60 * 1000) return clearInterval(timer);
      if (document.visibilityState === 'visible') beacon(api + '/heartbeat', { path: path, token: token() });
    }, 60 * 1000);
  }

  // The hit (its browser token's first localStorage read included) is a task of its own too.
  function hit() {
    req(api + '/hits', { path: path, title: document.title.slice(0, 200), referrer: document.referrer.slice(0, 500), token: token() })
      .then(function (b) { fill(b, b.page.views); heartbeat(); })
      .catch(fromCache);
  }
  function read() {
    req(api + '/stats').then(function (b) { fill(b); }).catch(fromCache);
    req(api + '/pages?path=' + encodeURIComponent(path)).then(function (b) {
      var p = b.pages[Object.keys(b.pages)[0]];
      if (p) views(p.views);
    }).catch(function () {});
  }
  function start() {
    all = [].slice.call(document.querySelectorAll('[data-pw-widget]'));
    if (track) later(hit);
    else if (all.some(function (el) { return /^(counter|views)$/.test(el.getAttribute('data-pw-widget')); })) later(read);
    each('counter', group);
    each('top-pages', topPages);
    each('hotlines', hotlines);
    each('poll', poll);
    each('rating', rating);
  }
  try {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { later(start); });
    else later(start);
  } catch (e) { /* never into the host page */ }
})();
