// Admin page, provinces: groups (totals, member sites ranked), aliases and merges.
// Needs a token for all sites; for a site-scoped token the section stays hidden.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat('vi-VN');
  var PERIODS = ['today', 'week', 'month', 'year', 'total'];
  var token = '';
  var sites = [];

  function call(method, path, body) { return window.pwAdminCall(token, method, path, body); }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function say(text, where, error) { window.pwAdminSay(text, where || 'group-msg', error); }
  function fail(where) { return function (e) { say(e.message, where, true); }; }
  function label(s) { return window.pwSiteLabel({ id: s.id || s.site, name: s.name }); }
  function nameOf(id) {
    var found = sites.filter(function (s) { return s.id === id; })[0];
    return found ? found.name : id;
  }
  // Numbers right-aligned, names left; the first cell of a totals row heads it.
  function row(cells, head) {
    var tr = el('tr');
    cells.forEach(function (c, i) {
      if (c instanceof Node) { var td = el('td'); td.appendChild(c); tr.appendChild(td); }
      else if (i === 0 && head) tr.appendChild(el('th', c, { scope: 'row' }));
      else tr.appendChild(el('td', c, { 'class': 'num' }));
    });
    return tr;
  }

  function openSite(id) {
    var select = $('site');
    select.value = id;
    select.dispatchEvent(new Event('change'));
    location.hash = '#overview';
    select.focus();
  }

  function loadGroup() {
    var id = $('group').value;
    var totals = $('group-totals').querySelector('tbody');
    var ranked = $('group-sites').querySelector('tbody');
    totals.textContent = '';
    ranked.textContent = '';
    if (!id) return Promise.resolve();
    return fetch('/api/v1/groups/' + id + '/stats', { cache: 'no-store' }).then(function (r) {
      return r.json();
    }).then(function (g) {
      [['Lượt truy cập', 'visits'], ['Lượt xem trang', 'pageviews']].forEach(function (k, i) {
        totals.appendChild(row([k[0]].concat(PERIODS.map(function (p) { return fmt.format(g[k[1]][p]); }),
          [i === 0 ? fmt.format(g.online) : '']), true));
      });
      g.sites.forEach(function (s, i) {
        var link = el('a', label(s), { href: '#overview' });
        link.addEventListener('click', function (ev) { ev.preventDefault(); openSite(s.site); });
        ranked.appendChild(row([String(i + 1), link].concat(
          PERIODS.map(function (p) { return fmt.format(s.visits[p]); }), [fmt.format(s.online)])));
      });
      var f = $('group-form').elements;
      f.id.value = g.group;
      f.name.value = g.name;
    });
  }

  function loadGroups(selected) {
    return call('GET', '/groups').then(function (data) {
      var select = $('group');
      select.textContent = '';
      data.groups.forEach(function (g) {
        select.appendChild(el('option', label(g), { value: g.id }));
      });
      if (selected) select.value = selected;
      var members = {};
      (data.groups.filter(function (g) { return g.id === select.value; })[0] || { sites: [] })
        .sites.forEach(function (s) { members[s] = true; });
      Array.prototype.forEach.call($('group-form').elements.sites.options, function (o) {
        o.selected = !!members[o.value];
      });
      say(data.groups.length ? '' : 'Chưa có nhóm nào.');
      return loadGroup();
    });
  }

  function fillSites(list) {
    sites = list;
    var real = list.filter(function (s) { return !s.merged_into; });
    var source = $('merge-source'), target = $('merge-target'), member = $('group-form').elements.sites;
    [source, target, member].forEach(function (sel) { sel.textContent = ''; });
    // The merge form preselects nothing: an operator picks both sites on purpose.
    source.appendChild(el('option', '— chọn cổng nguồn —', { value: '' }));
    target.appendChild(el('option', '— chọn cổng đích —', { value: '' }));
    real.forEach(function (s) {
      [source, target, member].forEach(function (sel) {
        sel.appendChild(el('option', label(s), { value: s.id }));
      });
    });
    var aliases = $('aliases');
    aliases.textContent = '';
    list.filter(function (s) { return s.merged_into; }).forEach(function (s) {
      aliases.appendChild(el('li', label(s) + ' → ' + label({ id: s.merged_into, name: nameOf(s.merged_into) })));
    });
    if (!aliases.children.length) aliases.appendChild(el('li', 'Chưa có cổng nào được gộp.'));
  }

  function refresh(selected) {
    return call('GET', '/sites').then(function (data) {
      fillSites(data.sites);
      return loadGroups(selected);
    });
  }

  // The confirmation states what will move: the source's public figures (imported + measured).
  function confirmMerge(source, target) {
    return call('GET', '/sites/' + source + '/counters').then(function (c) {
      function sum(kind, p) { return c.imported[kind][p] + c.measured[kind][p]; }
      var text = 'Gộp cổng «' + nameOf(source) + '» vào «' + nameOf(target) + '»?\n' +
        'Sẽ cộng vào «' + nameOf(target) + '»: ' + fmt.format(sum('visits', 'total')) + ' lượt truy cập và ' +
        fmt.format(sum('pageviews', 'total')) + ' lượt xem trang (tổng số; trong tháng này ' +
        fmt.format(sum('visits', 'month')) + ' lượt truy cập, hôm nay ' + fmt.format(sum('visits', 'today')) +
        '), lịch sử theo ngày và lượt xem từng trang.\n' +
        'Đường dây nóng và bình chọn ở lại «' + nameOf(source) + '». «' + nameOf(source) +
        '» trở thành bí danh: mã nhúng cũ tiếp tục đếm vào «' + nameOf(target) + '». Không thể hoàn tác.';
      return window.confirm(text) ? sum('visits', 'total') : null;
    });
  }

  $('group').addEventListener('change', function () {
    loadGroups($('group').value).catch(fail());
  });
  $('group-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var members = Array.prototype.filter.call(f.sites.options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
    call('PUT', '/groups/' + f.id.value, { name: f.name.value, sites: members })
      .then(function () { say('Đã lưu nhóm «' + f.name.value + '».'); return loadGroups(f.id.value); })
      .catch(fail());
  });
  $('group-delete').addEventListener('click', function () {
    var id = $('group').value;
    if (!id || !window.confirm('Xoá nhóm «' + id + '»? Các cổng vẫn giữ nguyên.')) return;
    call('DELETE', '/groups/' + id).then(function () { say('Đã xoá nhóm.'); return loadGroups(); })
      .catch(fail());
  });
  $('merge-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var source = $('merge-source').value, target = $('merge-target').value;
    if (!source || !target) { say('Hãy chọn cổng nguồn và cổng đích.', 'merge-msg', true); return; }
    if (source === target) { say('Hãy chọn hai cổng khác nhau.', 'merge-msg', true); return; }
    confirmMerge(source, target).then(function (visits) {
      if (visits === null) return null;
      say('Đang gộp… (khoảng 6 giây)', 'merge-msg');
      return call('POST', '/sites/' + source + '/merge', { into: target }).then(function (r) {
        say('Đã gộp «' + nameOf(source) + '» vào «' + nameOf(target) + '»: ' +
          fmt.format(r.moved.visits.total) + ' lượt truy cập đã chuyển.', 'merge-msg');
        return refresh($('group').value);
      });
    }).catch(fail('merge-msg'));
  });

  document.addEventListener('pw-admin-ready', function (ev) {
    token = ev.detail.token;
    fillSites(ev.detail.sites);
    // Only a token for all sites may see groups: the menu item appears when the call succeeds.
    loadGroups().then(function () {
      $('nav-provinces').hidden = false;
      if (location.hash === '#provinces') window.pwAdminShow('provinces');
    }).catch(function () { $('provinces').hidden = true; $('nav-provinces').hidden = true; });
  });
})();
