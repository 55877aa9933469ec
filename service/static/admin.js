// Admin page: a thin UI over /api/v1/admin. The token lives in sessionStorage only.
// One section shows at a time (the menu and the address's #fragment choose it); every save
// and every error is said in the section's message line.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat('vi-VN');
  var token = sessionStorage.getItem('pw-admin-token') || '';
  var site = '';
  var editing = null;  // the id of the hotline the form is changing, or null to add one

  // The API's reasons are short English; the page says them in Vietnamese where it can.
  var REASONS = {
    'invalid token': 'Mã quản trị không đúng hoặc đã bị thu hồi.',
    'missing bearer token': 'Hãy nhập mã quản trị.',
    'token not allowed for this site': 'Mã này không được quản lý cổng này.',
    'rate limited': 'Thử quá nhiều lần; hãy đợi một phút.',
    'storage unavailable': 'Máy chủ dữ liệu tạm thời không trả lời; hãy thử lại.',
    'options cannot change once votes exist; reset the poll first':
      'Không sửa được phương án khi đã có phiếu; hãy xoá kết quả trước.',
    'question must be 1-300 characters': 'Câu hỏi dài từ 1 đến 300 ký tự.',
    'option labels must be 1-200 characters': 'Mỗi phương án dài từ 1 đến 200 ký tự.'
  };
  var STATUS = { open: 'đang mở', closed: 'đã đóng', scheduled: 'chưa mở' };
  var day = new Intl.DateTimeFormat('vi-VN', { day: '2-digit', month: '2-digit', year: 'numeric' });
  function vi(reason) { return REASONS[reason] || 'Không thực hiện được (' + reason + ').'; }
  // Every panel's message line: green for done, red for an error.
  function say(text, where, error) {
    var node = $(where || 'msg');
    node.textContent = text;
    node.classList.toggle('error', !!error);
  }
  function fail(where) { return function (e) { say(e.message, where, true); }; }
  window.pwAdminSay = say;
  function siteLabel(s) {
    return s.name && s.name.indexOf('(' + s.id + ')') < 0 ? s.name + ' (' + s.id + ')' : (s.name || s.id);
  }
  window.pwSiteLabel = siteLabel;

  // Sections: the menu's links name them; the address's fragment keeps the choice on reload.
  function show(id) {
    var panel = $(id);
    if (!panel || !panel.classList.contains('panel') || ($('nav-' + id) && $('nav-' + id).hidden)) id = 'overview';
    Array.prototype.forEach.call(document.querySelectorAll('.panel'), function (p) { p.hidden = p.id !== id; });
    Array.prototype.forEach.call(document.querySelectorAll('#nav a'), function (a) {
      if (a.getAttribute('href') === '#' + id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    say('');
  }
  window.pwAdminShow = show;
  window.addEventListener('hashchange', function () { show(location.hash.slice(1)); });
  function call(method, path, body) {
    return window.pwAdminCall(token, method, path, body)
      .catch(function (e) { throw new Error(vi(e.message)); });
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function svg(tag, attrs, text) {
    var node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function iso(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()); }

  // Bars with their values written above them: readable without hovering.
  function chart(target, rows, title) {
    var box = $(target);
    box.textContent = '';
    var w = 30 * rows.length + 40, hgt = 220, max = 1;
    rows.forEach(function (r) { max = Math.max(max, r.visits, r.pageviews); });
    var s = svg('svg', { viewBox: '0 0 ' + w + ' ' + hgt, role: 'img', 'aria-label': title });
    rows.forEach(function (r, i) {
      var x = 30 + i * 30, scale = 160 / max;
      var hp = Math.round(r.pageviews * scale), hv = Math.round(r.visits * scale);
      s.appendChild(svg('rect', { x: x, y: 190 - hp, width: 12, height: hp, fill: '#e8a3a5' }));
      s.appendChild(svg('rect', { x: x + 12, y: 190 - hv, width: 12, height: hv, fill: '#a4161a' }));
      s.appendChild(svg('text', { x: x + 12, y: 185 - Math.max(hp, hv), 'text-anchor': 'middle' }, fmt.format(r.visits)));
      s.appendChild(svg('text', { x: x + 12, y: 205, 'text-anchor': 'middle' }, r.label));
    });
    box.appendChild(s);
  }

  function loadStats() {
    var counters;
    return call('GET', '/sites/' + site + '/counters').then(function (c) {
      counters = c;
      return fetch('/api/v1/sites/' + site + '/stats', { cache: 'no-store' }).then(function (r) { return r.json(); });
    }).then(function (stats) {
      var body = $('stats').querySelector('tbody');
      body.textContent = '';
      function line(label, values) {
        var tr = el('tr');
        tr.appendChild(el('th', label, { scope: 'row' }));
        ['today', 'week', 'month', 'year', 'total'].forEach(function (p) {
          var v = values[p];
          tr.appendChild(el('td', v === undefined || v === null ? '–' : fmt.format(v), { 'class': 'num' }));
        });
        body.appendChild(tr);
      }
      line('Lượt truy cập', stats.visits);
      line('– chuyển từ bộ đếm cũ', counters.imported.visits);
      line('– đo từ khi dùng bộ đếm này', counters.measured.visits);
      line('Lượt xem trang', stats.pageviews);
      line('Khách (ước tính)', stats.uniques);
      $('online').textContent = fmt.format(stats.online);
      $('online-note').textContent = stats.online_window_seconds
        ? '(người đọc trong ' + Math.round(stats.online_window_seconds / 60) + ' phút qua)' : '';
    });
  }
  function loadHistory() {
    var end = new Date(), start = new Date();
    start.setDate(end.getDate() - 364);
    return call('GET', '/sites/' + site + '/history?from=' + iso(start) + '&to=' + iso(end)).then(function (h) {
      var days = h.days.slice(-30).map(function (d) {
        return { label: d.date.slice(8, 10), visits: d.visits, pageviews: d.pageviews };
      });
      chart('chart-days', days, '30 ngày qua');
      var months = [], byMonth = {};
      h.days.forEach(function (d) {
        var m = d.date.slice(0, 7);
        if (!byMonth[m]) { byMonth[m] = { label: m.slice(5) + '/' + m.slice(2, 4), visits: 0, pageviews: 0 }; months.push(byMonth[m]); }
        byMonth[m].visits += d.visits;
        byMonth[m].pageviews += d.pageviews;
      });
      chart('chart-months', months.slice(-12), '12 tháng qua');
    });
  }
  function loadHotlines() {
    return call('GET', '/sites/' + site + '/hotlines').then(function (box) {
      var body = $('hotlines').querySelector('tbody');
      body.textContent = '';
      box.hotlines.forEach(function (hl) {
        var tr = el('tr');
        [hl.group || '', hl.label, hl.number].forEach(function (t) { tr.appendChild(el('td', t)); });
        tr.appendChild(el('td', fmt.format(hl.clicks), { 'class': 'num' }));
        var td = el('td'), del = el('button', 'Xoá', { type: 'button', 'aria-label': 'Xoá ' + hl.label });
        var edit = el('button', 'Sửa', { type: 'button', 'aria-label': 'Sửa ' + hl.label });
        del.addEventListener('click', function () {
          if (!window.confirm('Xoá số «' + hl.label + '»?')) return;
          call('DELETE', '/sites/' + site + '/hotlines/' + hl.id).then(function () {
            say('Đã xoá số «' + hl.label + '».'); return loadHotlines();
          }).catch(fail());
        });
        edit.addEventListener('click', function () {
          var f = $('hotline-form').elements;
          f.group.value = hl.group || '';
          f.label.value = hl.label;
          f.number.value = hl.number;
          editing = hl.id;
          $('hotline-submit').textContent = 'Lưu thay đổi';
          $('hotline-form-h').textContent = 'Sửa số «' + hl.label + '»';
          $('hotline-cancel').hidden = false;
          f.label.focus();
        });
        td.appendChild(edit);
        td.appendChild(del);
        tr.appendChild(td);
        body.appendChild(tr);
      });
    });
  }
  function when(value) { return value ? day.format(new Date(value)) : ''; }
  function loadPolls() {
    var current = null;
    return call('GET', '/sites/' + site + '/polls/current').then(function (p) { current = p.id; })
      .catch(function () { current = null; })  // no current poll yet
      .then(function () { return call('GET', '/sites/' + site + '/polls'); }).then(function (data) {
      var box = $('polls');
      box.textContent = '';
      if (!data.polls.length) box.appendChild(el('p', 'Chưa có bình chọn nào. Bình chọn đầu tiên tạo ra sẽ là bình chọn hiện tại.'));
      data.polls.forEach(function (p) {
        var isCurrent = p.id === current;
        var div = el('div', null, { 'class': 'poll' + (isCurrent ? ' current' : '') });
        div.appendChild(el('strong', p.question));
        if (isCurrent) div.appendChild(el('span', 'Bình chọn hiện tại', { 'class': 'badge' }));
        var meta = [(STATUS[p.status] || p.status), fmt.format(p.total_votes) + ' phiếu'];
        if (p.created) meta.push('tạo ngày ' + when(p.created));
        if (p.closes_at) meta.push((p.status === 'closed' ? 'đóng ngày ' : 'đóng vào ') + when(p.closes_at));
        div.appendChild(el('p', meta.join(' · '), { 'class': 'meta' }));
        var ul = el('ul');
        p.options.forEach(function (o) {
          var pct = p.total_votes ? Math.round(o.votes * 1000 / p.total_votes) / 10 : 0;
          ul.appendChild(el('li', o.label + ': ' + fmt.format(o.votes) + ' (' + pct + '%)'));
        });
        div.appendChild(ul);
        var actions = [
          [p.status === 'closed' ? 'Mở lại' : 'Đóng', function () { return call('PATCH', '/sites/' + site + '/polls/' + p.id, { status: p.status === 'closed' ? 'open' : 'closed' }); }],
          ['Đặt làm bình chọn hiện tại', function () { return call('PUT', '/sites/' + site + '/polls/current', { poll: p.id }); }],
          ['Xoá kết quả', function () { return window.confirm('Xoá toàn bộ phiếu?') && call('POST', '/sites/' + site + '/polls/' + p.id + '/reset'); }]
        ];
        var done = [p.status === 'closed' ? 'Đã mở lại bình chọn.' : 'Đã đóng bình chọn.',
          'Đã đặt làm bình chọn hiện tại.', 'Đã xoá kết quả.'];
        if (isCurrent) { actions.splice(1, 1); done.splice(1, 1); }
        actions.forEach(function (a, i) {
          var b = el('button', a[0], { type: 'button' });
          b.addEventListener('click', function () {
            Promise.resolve(a[1]()).then(function (r) {
              if (r === false) return null;
              say(done[i]); return loadPolls();
            }).catch(fail());
          });
          div.appendChild(b);
        });
        box.appendChild(div);
      });
    });
  }
  function loadSettings() {
    return call('GET', '/sites/' + site).then(function (s) {
      var f = $('site-form').elements;
      f.name.value = s.name || '';
      f.origins.value = (s.origins || []).join('\n');
      f.public_stats.checked = !!s.public_stats;
      $('public-link').textContent = '/stats/' + s.id;
      $('public-link').setAttribute('href', '/stats/' + s.id);
    });
  }
  function loadSite() {
    site = $('site').value;
    Promise.all([loadStats(), loadHistory(), loadHotlines(), loadPolls(), loadSettings()]).catch(fail());
    // panels kept in their own files (admin-pages.js, ...) load on this event
    document.dispatchEvent(new CustomEvent('pw:site', { detail: { site: site, token: token } }));
  }
  function start() {
    call('GET', '/sites').then(function (data) {
      $('login-main').hidden = true;
      $('app').hidden = false;
      $('switcher').hidden = false;
      show(location.hash.slice(1));
      var select = $('site');
      select.textContent = '';
      data.sites.filter(function (s) { return !s.merged_into; }).forEach(function (s) {
        select.appendChild(el('option', siteLabel(s), { value: s.id }));
      });
      if (select.options.length) loadSite(); else say('Mã này chưa được cấp cổng nào.', 'msg', true);
      // admin-groups.js (provinces: groups, aliases, merges) starts from here
      document.dispatchEvent(new CustomEvent('pw-admin-ready', { detail: { token: token, sites: data.sites } }));
    }).catch(fail('login-msg'));
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem('pw-admin-token', token);
    start();
  });
  $('logout').addEventListener('click', function () { sessionStorage.removeItem('pw-admin-token'); location.reload(); });
  $('site').addEventListener('change', function () { say(''); loadSite(); });
  $('baseline-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var visits = {};
    ['total', 'year', 'month', 'week'].forEach(function (k) {
      var v = ev.target.elements[k].value;
      if (v !== '') visits[k] = parseInt(v, 10);
    });
    if (!Object.keys(visits).length) { say('Hãy nhập ít nhất một số.', 'msg', true); return; }
    call('PUT', '/sites/' + site + '/counters', { visits: visits }).then(function () { say('Đã lưu số liệu ban đầu.'); return loadStats(); }).catch(fail());
  });
  $('site-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var origins = f.origins.value.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
    call('PUT', '/sites/' + site, { name: f.name.value.trim(), origins: origins, public_stats: f.public_stats.checked })
      .then(function () {
        say('Đã lưu thông tin cổng.');
        var option = $('site').selectedOptions[0];
        if (option) option.textContent = siteLabel({ id: site, name: f.name.value.trim() });
        return loadSettings();
      }).catch(fail());
  });
  $('hotline-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var body = { label: f.label.value, number: f.number.value, group: f.group.value || null };
    var done = editing ? 'Đã lưu thay đổi.' : 'Đã thêm số.';
    (editing ? call('PATCH', '/sites/' + site + '/hotlines/' + editing, body) : call('POST', '/sites/' + site + '/hotlines', body))
      .then(function () {
        stopEditing();
        say(done);
        return loadHotlines();
      }).catch(fail());
  });
  function stopEditing() {
    editing = null;
    $('hotline-form').reset();
    $('hotline-submit').textContent = 'Thêm số';
    $('hotline-form-h').textContent = 'Số điện thoại mới';
    $('hotline-cancel').hidden = true;
  }
  $('hotline-cancel').addEventListener('click', function () { stopEditing(); say(''); });
  $('poll-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var options = f.options.value.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
    call('POST', '/sites/' + site + '/polls', { question: f.question.value, options: options, multiple: f.multiple.checked })
      .then(function () { ev.target.reset(); say('Đã tạo bình chọn.'); return loadPolls(); }).catch(fail());
  });
  if (token) start();
})();
