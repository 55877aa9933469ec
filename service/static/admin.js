// Admin page: a thin UI over /api/v1/admin. The token lives in sessionStorage only.
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
  function vi(reason) { return REASONS[reason] || 'Không thực hiện được (' + reason + ').'; }
  function say(text, where) { $(where || 'msg').textContent = text; }
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
    return call('GET', '/sites/' + site + '/counters').then(function () {
      return fetch('/api/v1/sites/' + site + '/stats', { cache: 'no-store' }).then(function (r) { return r.json(); });
    }).then(function (stats) {
      var body = $('stats').querySelector('tbody');
      body.textContent = '';
      [['Lượt truy cập', 'visits'], ['Lượt xem trang', 'pageviews'], ['Khách (ước tính)', 'uniques']].forEach(function (row) {
        var tr = el('tr');
        tr.appendChild(el('th', row[0], { scope: 'row' }));
        ['today', 'week', 'month', 'year', 'total'].forEach(function (p) {
          var v = stats[row[1]][p];
          tr.appendChild(el('td', v === undefined ? '–' : fmt.format(v)));
        });
        body.appendChild(tr);
      });
      $('online').textContent = fmt.format(stats.online);
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
        [hl.group || '', hl.label, hl.number, fmt.format(hl.clicks)].forEach(function (t) { tr.appendChild(el('td', t)); });
        var td = el('td'), del = el('button', 'Xoá', { type: 'button', 'aria-label': 'Xoá ' + hl.label });
        var edit = el('button', 'Sửa', { type: 'button', 'aria-label': 'Sửa ' + hl.label });
        del.addEventListener('click', function () {
          call('DELETE', '/sites/' + site + '/hotlines/' + hl.id).then(loadHotlines).catch(function (e) { say(e.message); });
        });
        edit.addEventListener('click', function () {
          var f = $('hotline-form').elements;
          f.group.value = hl.group || '';
          f.label.value = hl.label;
          f.number.value = hl.number;
          editing = hl.id;
          $('hotline-submit').textContent = 'Lưu thay đổi';
          f.label.focus();
        });
        td.appendChild(edit);
        td.appendChild(del);
        tr.appendChild(td);
        body.appendChild(tr);
      });
    });
  }
  function loadPolls() {
    return call('GET', '/sites/' + site + '/polls').then(function (data) {
      var box = $('polls');
      box.textContent = '';
      data.polls.forEach(function (p) {
        var div = el('div', null, { 'class': 'poll' });
        div.appendChild(el('strong', p.question));
        div.appendChild(el('span', ' — ' + (STATUS[p.status] || p.status) + ', ' + fmt.format(p.total_votes) + ' phiếu'));
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
        actions.forEach(function (a) {
          var b = el('button', a[0], { type: 'button' });
          b.addEventListener('click', function () {
            Promise.resolve(a[1]()).then(function () { say('Đã cập nhật.'); return loadPolls(); }).catch(function (e) { say(e.message); });
          });
          div.appendChild(b);
        });
        box.appendChild(div);
      });
    });
  }
  function loadSite() {
    site = $('site').value;
    Promise.all([loadStats(), loadHistory(), loadHotlines(), loadPolls()]).catch(function (e) { say(e.message); });
    // panels kept in their own files (admin-pages.js, ...) load on this event
    document.dispatchEvent(new CustomEvent('pw:site', { detail: { site: site, token: token } }));
  }
  function start() {
    call('GET', '/sites').then(function (data) {
      $('login').hidden = true;
      $('app').hidden = false;
      var select = $('site');
      select.textContent = '';
      data.sites.forEach(function (s) { select.appendChild(el('option', s.name + ' (' + s.id + ')', { value: s.id })); });
      if (data.sites.length) loadSite(); else say('Mã này chưa được cấp cổng nào.');
      // admin-groups.js (provinces: groups, aliases, merges) starts from here
      document.dispatchEvent(new CustomEvent('pw-admin-ready', { detail: { token: token, sites: data.sites } }));
    }).catch(function (e) { say(e.message, 'login-msg'); });
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem('pw-admin-token', token);
    start();
  });
  $('logout').addEventListener('click', function () { sessionStorage.removeItem('pw-admin-token'); location.reload(); });
  $('site').addEventListener('change', loadSite);
  $('baseline-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var visits = {};
    ['total', 'year', 'month', 'week'].forEach(function (k) {
      var v = ev.target.elements[k].value;
      if (v !== '') visits[k] = parseInt(v, 10);
    });
    call('PUT', '/sites/' + site + '/counters', { visits: visits }).then(function () { say('Đã lưu số liệu ban đầu.'); return loadStats(); }).catch(function (e) { say(e.message); });
  });
  $('hotline-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var body = { label: f.label.value, number: f.number.value, group: f.group.value || null };
    var done = editing ? 'Đã lưu thay đổi.' : 'Đã thêm số.';
    (editing ? call('PATCH', '/sites/' + site + '/hotlines/' + editing, body) : call('POST', '/sites/' + site + '/hotlines', body))
      .then(function () {
        ev.target.reset();
        editing = null;
        $('hotline-submit').textContent = 'Thêm số';
        say(done);
        return loadHotlines();
      }).catch(function (e) { say(e.message); });
  });
  $('poll-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = ev.target.elements;
    var options = f.options.value.split('\n').map(function (s) { return s.trim(); }).filter(Boolean);
    call('POST', '/sites/' + site + '/polls', { question: f.question.value, options: options, multiple: f.multiple.checked })
      .then(function () { ev.target.reset(); say('Đã tạo bình chọn.'); return loadPolls(); }).catch(function (e) { say(e.message); });
  });
  if (token) start();
})();
